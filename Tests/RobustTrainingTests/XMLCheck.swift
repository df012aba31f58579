import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses XML (SVG, or the reports' well-formed HTML) and counts elements by name.
final class XMLCheck {
  private(set) var counts = [String: Int]()
  private(set) var attributes = [String: [[String: String]]]()
  private(set) var text = ""
  let isWellFormed: Bool
  let error: String?

  init(_ markup: String) {
    let parser = XMLParser(data: Data(markup.utf8))
    let collector = Collector()
    parser.delegate = collector
    isWellFormed = parser.parse()
    error = parser.parserError.map { "\($0) at line \(parser.lineNumber)" }
    counts = collector.counts
    attributes = collector.attributes
    text = collector.text
  }

  func count(_ element: String) -> Int { counts[element] ?? 0 }

  private final class Collector: NSObject, XMLParserDelegate {
    var counts = [String: Int]()
    var attributes = [String: [[String: String]]]()
    var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:])
    {
      counts[name, default: 0] += 1
      attributes[name, default: []].append(a)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
  }
}
