import Foundation

/// A self-contained HTML page (inline CSS and SVG, nothing fetched), written as well-formed XML so
/// that it can be checked with any XML parser.
public struct HTMLPage: Sendable {
  public var title: String
  public private(set) var body: [String] = []

  public init(title: String) { self.title = title }

  public mutating func heading(_ text: String, level: Int = 2) {
    body.append("<h\(level)>\(Markup.escape(text))</h\(level)>")
  }

  public mutating func paragraph(_ text: String, note: Bool = false) {
    body.append((note ? #"<p class="note">"# : "<p>") + Markup.escape(text) + "</p>")
  }

  /// Starts a section with an id (for links and tests) and a heading; close it with `endSection()`.
  public mutating func beginSection(_ id: String, _ heading: String) {
    body.append(#"<section id="\#(Markup.escape(id))">"#)
    self.heading(heading)
  }

  public mutating func endSection() { body.append("</section>") }

  /// A table; `numeric` columns are right-aligned.
  public mutating func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) {
    func cell(_ tag: String, _ text: String, _ i: Int) -> String {
      "<\(tag)\(numeric.contains(i) ? #" class="num""# : "")>\(Markup.escape(text))</\(tag)>"
    }
    var lines = ["<table>", "<thead><tr>" + headers.enumerated().map { cell("th", $1, $0) }.joined() + "</tr></thead>", "<tbody>"]
    lines += rows.map { "<tr>" + $0.enumerated().map { cell("td", $1, $0) }.joined() + "</tr>" }
    lines += ["</tbody>", "</table>"]
    body.append(#"<div class="scroll">"# + lines.joined(separator: "\n") + "</div>")
  }

  /// An inline SVG figure (the SVG text as produced by `LineChart`/`ChartGrid`).
  public mutating func figure(_ svg: String, caption: String? = nil) {
    let caption = caption.map { "<figcaption>\(Markup.escape($0))</figcaption>" } ?? ""
    body.append("<figure>\n" + svg + caption + "</figure>")
  }

  public var html: String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>\(Markup.escape(title))</title>
    <style>\(Self.css)</style>
    </head>
    <body>
    <h1>\(Markup.escape(title))</h1>
    \(body.joined(separator: "\n"))
    </body>
    </html>

    """
  }

  static let css = """

    body { font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #222; margin: 24px auto; max-width: 1280px; padding: 0 16px; }
    h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
    table { border-collapse: collapse; margin: 8px 0; }
    th, td { padding: 3px 10px; border-bottom: 1px solid #e5e5e5; text-align: left; white-space: nowrap; }
    th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .scroll { overflow-x: auto; } figure { margin: 12px 0; } svg { max-width: 100%; height: auto; }
    figcaption { color: #555; font-size: 13px; max-width: 900px; } .note { color: #555; font-style: italic; }

    """
}
