import CYaml
import Foundation
import Yams

/// YAML settings files, read into the same tree as JSON (so that a YAML run or grid file is exactly as
/// strict as the JSON one), within `StructuredText`'s budget. The tree is built here from libyaml's event
/// stream (libyaml is the parser under Yams), not by Yams' composer: an alias is counted as the values it
/// stands for before it is taken, so an alias bomb ("billion laughs") is refused after a few of its values
/// rather than expanded, and a key given twice is compared by its text alone. Plain scalars are typed as
/// Yams types them (YAML 1.1's core schema: true / yes, 0x1F, 1_000, .5, null / ~); a quoted one is text;
/// `.nan` and `.inf` are refused, naming the key; `<<: *base` merges a mapping in (keys beside it win).
enum YAMLText {
  static func tree(_ data: Data) throws -> JSONValue {
    guard String(data: data, encoding: .utf8) != nil else { throw StructuredTextError("is not YAML: the file is not UTF-8 text") }
    let bytes = [UInt8](data)
    return try bytes.withUnsafeBufferPointer { buffer in
      let composer = YAMLComposer(buffer)
      return try composer.document()
    }
  }
}

/// One libyaml event, freed with its owner.
private final class YAMLEvent {
  var event = yaml_event_t()
  deinit { yaml_event_delete(&event) }

  var type: yaml_event_type_t { event.type }
  var line: Int { Int(event.start_mark.line) + 1 }

  static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
  }

  var anchor: String? {
    switch type {
    case YAML_SCALAR_EVENT: return Self.text(event.data.scalar.anchor)
    case YAML_SEQUENCE_START_EVENT: return Self.text(event.data.sequence_start.anchor)
    case YAML_MAPPING_START_EVENT: return Self.text(event.data.mapping_start.anchor)
    default: return nil
    }
  }
}

private final class YAMLComposer {
  private var parser = yaml_parser_t()
  /// Each anchor's value and the number of values it holds (what an alias to it costs).
  private var anchors = [String: (value: JSONValue, size: Int)]()
  private var budget = StructuredText.Budget()

  init(_ buffer: UnsafeBufferPointer<UInt8>) {
    yaml_parser_initialize(&parser)
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
    yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
  }

  deinit { yaml_parser_delete(&parser) }

  private func next() throws -> YAMLEvent {
    let event = YAMLEvent()
    guard yaml_parser_parse(&parser, &event.event) == 1 else {
      let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
      let context = parser.context.map { " \(String(cString: $0))" } ?? ""
      throw StructuredTextError("is not YAML: line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): "
        + "\(problem)\(context)")
    }
    return event
  }

  /// The file's one document (an empty file is null, which the callers refuse as not an object).
  func document() throws -> JSONValue {
    _ = try next()  // stream start
    let start = try next()
    if start.type == YAML_STREAM_END_EVENT { return .null }
    let root = try node(try next(), path: "", depth: 0).value
    _ = try next()  // document end
    let end = try next()
    guard end.type == YAML_STREAM_END_EVENT else {
      throw StructuredTextError("is not one YAML document: another starts at line \(end.line) (a settings file holds one)")
    }
    return root
  }

  /// The value that starts with `event` and the number of values in it.
  private func node(_ event: YAMLEvent, path: String, depth: Int) throws -> (value: JSONValue, size: Int) {
    try StructuredText.Budget.checkDepth(depth, at: path, line: event.line)
    let result: (value: JSONValue, size: Int)
    switch event.type {
    case YAML_ALIAS_EVENT:
      let name = YAMLEvent.text(event.event.data.alias.anchor) ?? ""
      guard let anchored = anchors[name] else {
        throw StructuredTextError(key: path, "is not YAML: line \(event.line): the alias *\(name) names no anchor before it")
      }
      try budget.addAlias(at: path, line: event.line)
      try budget.add(values: anchored.size, at: path, line: event.line)
      return anchored
    case YAML_SCALAR_EVENT:
      try budget.add(values: 1, at: path, line: event.line)
      result = (try scalar(event, path: path), 1)
    case YAML_SEQUENCE_START_EVENT:
      try budget.add(values: 1, at: path, line: event.line)
      var elements = [JSONValue]()
      var size = 1
      while true {
        let child = try next()
        if child.type == YAML_SEQUENCE_END_EVENT { break }
        let element = try node(child, path: "\(path)[\(elements.count)]", depth: depth + 1)
        elements.append(element.value)
        size += element.size
      }
      result = (.array(elements), size)
    case YAML_MAPPING_START_EVENT:
      try budget.add(values: 1, at: path, line: event.line)
      result = try mapping(path: path, depth: depth)
    default:
      throw StructuredTextError(key: path, "is not YAML: line \(event.line): unexpected event \(event.type.rawValue)")
    }
    if let anchor = event.anchor { anchors[anchor] = result }
    return result
  }

  private func mapping(path: String, depth: Int) throws -> (value: JSONValue, size: Int) {
    var members = [String: JSONValue]()
    var lines = [String: Int]()
    var merged = [String: JSONValue]()
    var size = 1
    while true {
      let keyEvent = try next()
      if keyEvent.type == YAML_MAPPING_END_EVENT { break }
      guard keyEvent.type == YAML_SCALAR_EVENT else {
        throw StructuredTextError(key: path, "is not a mapping of settings: line \(keyEvent.line): a key at \(StructuredText.name(path)) "
          + "is a list, a mapping or an alias; keys are names")
      }
      let key = YAMLEvent.text(keyEvent.event.data.scalar.value) ?? ""
      let isMerge = key == "<<" && keyEvent.event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
      let child = isMerge ? path : StructuredText.path(path, key: key)
      let value = try node(try next(), path: child, depth: depth + 1)
      size += value.size
      if isMerge {
        // `<<: *base` or `<<: [*a, *b]`: the earlier of several mappings wins, and the mapping's own keys over all
        let sources: [JSONValue] = if case .array(let list) = value.value { list } else { [value.value] }
        for source in sources.reversed() {
          guard case .object(let object) = source else {
            throw StructuredTextError(key: path, "is not a mapping of settings: line \(keyEvent.line): '<<' at "
              + "\(StructuredText.name(path)) must merge a mapping (<<: *name)")
          }
          merged.merge(object) { $1 }
        }
        continue
      }
      if let first = lines[key] {
        throw StructuredTextError(key: child, "gives the key '\(child)' twice (lines \(first) and \(keyEvent.line)); give each key once")
      }
      lines[key] = keyEvent.line
      members[key] = value.value
    }
    return (.object(members.merging(merged) { own, _ in own }), size)
  }

  /// A scalar typed as YAML 1.1's core schema types it (as Yams does): quoted or `!!str` is text.
  private func scalar(_ event: YAMLEvent, path: String) throws -> JSONValue {
    let data = event.event.data.scalar
    let text = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
    let tag = YAMLEvent.text(data.tag)
    if data.style != YAML_PLAIN_SCALAR_STYLE && tag == nil || tag == Tag.Name.str.rawValue || tag == "!" { return .string(text) }
    let scalar = Node.Scalar(text, Tag(.implicit), .plain)
    let kind = tag.map(Tag.Name.init(rawValue:)) ?? Resolver.default.resolveTag(of: Node.scalar(scalar))
    switch kind {
    case .null: if Resolver.default.resolveTag(of: Node.scalar(scalar)) == .null { return .null }
    case .bool: if let value = Bool.construct(from: scalar) { return .bool(value) }
    case .int:
      if let value = Int.construct(from: scalar) { return .integer(value) }
      if let value = Double.construct(from: scalar) {
        guard value.isFinite else {
          throw StructuredTextError(key: path, "has \(StructuredText.name(path)): \(text.prefix(40)) (line \(event.line)), a number out of range")
        }
        return .number(value)
      }
    case .float:
      if let value = Double.construct(from: scalar) {
        guard value.isFinite else {
          throw StructuredTextError(key: path, "has \(StructuredText.name(path)): \(text) (line \(event.line)), "
            + "which is not a finite number")
        }
        return .number(value)
      }
    default:
      if tag == nil { return .string(text) }
      throw StructuredTextError(key: path, "has \(StructuredText.name(path)) tagged \(tag!) (line \(event.line)), not a tag a "
        + "settings file uses (!!str, !!int, !!float, !!bool, !!null)")
    }
    throw StructuredTextError(key: path, "has \(StructuredText.name(path)): '\(text.prefix(40))' (line \(event.line)), which is not "
      + "\(tag ?? kind.rawValue)")
  }
}
