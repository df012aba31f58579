import Foundation

/// Escaping and number formatting shared by the SVG and HTML writers.
public enum Markup {
  /// A CSV field: quoted (with doubled quotes) when it holds a comma, a quote or a newline.
  public static func csvField(_ s: String) -> String {
    s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }

  /// Text safe inside XML/HTML element content and double-quoted attribute values.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      // Control characters other than tab/newline are not allowed in XML 1.0 at all.
      case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r": out += "\u{FFFD}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// A coordinate with at most two decimals and no trailing zeros ("12.5", "3", "-0.25").
  static func coordinate(_ v: Double) -> String {
    let rounded = (v * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(format: "%.2f", rounded).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
  }

  /// A fraction in [0, 1] as a percentage with two decimals, or "–" when missing.
  public static func percent(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "–" }
    return String(format: "%.2f%%", v * 100)
  }

  /// A number with `digits` significant digits, or "–" when missing.
  public static func number(_ v: Double?, digits: Int = 4) -> String {
    guard let v, v.isFinite else { return "–" }
    return String(format: "%.\(digits)g", v)
  }

  public static func duration(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite, seconds >= 0 else { return "–" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
  }
}
