import Foundation

/// Writes a report's HTML and its plots (SVG, and PNG when `rsvg-convert` is installed).
public enum ReportFiles {
  /// Writes `document.html` to `html` and each plot to `plots/NAME.svg` (+ `.png`).
  /// - Returns: lines to tell the user (what was written, or why the PNGs were not).
  @discardableResult
  public static func write(_ document: ReportDocument, html: URL, plotsFolder: URL, png: Bool = true) throws -> [String] {
    try FileManager.default.createDirectory(at: html.deletingLastPathComponent(), withIntermediateDirectories: true)
    try document.html.write(to: html, atomically: true, encoding: .utf8)
    var messages = ["report: \(html.path)"]
    guard !document.plots.isEmpty else { return messages }
    try FileManager.default.createDirectory(at: plotsFolder, withIntermediateDirectories: true)
    var svgs = [URL]()
    for (name, svg) in document.plots {
      let url = plotsFolder.appendingPathComponent(name)
      try svg.write(to: url, atomically: true, encoding: .utf8)
      svgs.append(url)
    }
    messages.append("plots: \(svgs.count) SVG files in \(plotsFolder.path)")
    if png { messages.append(SVGRasterizer.convertAll(svgs)) }
    return messages
  }
}

/// PNG versions of SVG files via librsvg's `rsvg-convert`, an optional tool.
public enum SVGRasterizer {
  public static var executable: URL? {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return paths.map { URL(fileURLWithPath: String($0)).appendingPathComponent("rsvg-convert") }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  /// Converts each file to a PNG next to it; returns a one-line summary.
  public static func convertAll(_ svgs: [URL]) -> String {
    guard let tool = executable else {
      return "PNG: skipped, rsvg-convert not found (apt-get install librsvg2-bin); the SVG files are complete"
    }
    var failed = [String]()
    for svg in svgs {
      let png = svg.deletingPathExtension().appendingPathExtension("png")
      let process = Process()
      process.executableURL = tool
      process.arguments = ["--zoom", "2", "--background-color", "white", "-o", png.path, svg.path]
      process.standardError = FileHandle.nullDevice
      do {
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { failed.append(svg.lastPathComponent) }
      } catch { failed.append(svg.lastPathComponent) }
    }
    return failed.isEmpty ? "PNG: \(svgs.count) files written with rsvg-convert"
      : "PNG: rsvg-convert failed on \(failed.joined(separator: ", "))"
  }
}
