import Foundation

/// Names that become one file or folder name inside a folder the user gave: a grid's run names and the
/// axis labels they are made of, a grid's own name (its default runs folder). One component, so that
/// nothing is written outside that folder: not empty, not `.` or `..`, no `/` or `\`, no control
/// characters (a newline, an escape sequence for the terminal, NUL), at most 255 bytes.
public enum PathComponentName {
  public static let maximumBytes = 255

  /// Why `name` cannot be one path component, or nil when it can.
  public static func problem(_ name: String) -> String? {
    if name.isEmpty { return "is empty" }
    if name == "." { return "names the folder itself, not a file or folder inside it" }
    if name == ".." { return "names the parent folder, outside the folder given" }
    if name.contains("/") || name.contains("\\") { return "holds a path separator ('/' or '\\')" }
    if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.value == 0x7F }) {
      return "holds a control character"
    }
    if name.utf8.count > maximumBytes { return "is longer than \(maximumBytes) bytes, the most a file name may have" }
    return nil
  }

  /// `name` as a message shows it: control characters escaped, at most 60 characters.
  public static func quoted(_ name: String) -> String {
    let shown = name.unicodeScalars.prefix(60).map { $0.properties.generalCategory == .control || $0.value == 0x7F
      ? String(format: "\\u{%X}", $0.value) : String($0) }.joined()
    return "'\(shown)\(name.unicodeScalars.count > 60 ? "…" : "")'"
  }
}
