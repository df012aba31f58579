import ArgumentParser
import RobustTraining

/// Reads "8/255", "0.031" or "2/255" style numbers.
func parseFraction(_ text: String, flag: String) throws -> Double {
  let parts = text.split(separator: "/", omittingEmptySubsequences: false)
  if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
  if parts.count == 1, let v = Double(text) { return v }
  throw ValidationError("\(flag): '\(text)' is not a number (use a decimal or a fraction such as 8/255)")
}

/// One case of a string-backed enum (case-insensitive); the error names `flag` and the choices.
func parseChoice<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws -> T where T.RawValue == String {
  guard let value = T(rawValue: text.lowercased()) else { throw ValidationError("\(flag): '\(text)' is not \(choices(T.self))") }
  return value
}

/// One case of a string-backed enum, or all of them for "both" (bench options that time each choice).
func parseChoices<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws -> [T] where T.RawValue == String {
  if text.lowercased() == "both" { return Array(T.allCases) }
  guard let value = T(rawValue: text.lowercased()) else {
    throw ValidationError("\(flag): '\(text)' (choose \(T.allCases.map(\.rawValue).joined(separator: ", ")) or both)")
  }
  return [value]
}

func formatDuration(_ seconds: Double) -> String { Markup.duration(seconds) }

func percent(_ v: Double?) -> String { v.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
