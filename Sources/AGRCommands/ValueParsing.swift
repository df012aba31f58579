import ArgumentParser

/// Reads "8/255", "0.031" or "2/255" style numbers.
func parseFraction(_ text: String, flag: String) throws -> Double {
  let parts = text.split(separator: "/", omittingEmptySubsequences: false)
  if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
  if parts.count == 1, let v = Double(text) { return v }
  throw ValidationError("\(flag): '\(text)' is not a number (use a decimal or a fraction such as 8/255)")
}

func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite, seconds >= 0 else { return "?" }
  let s = Int(seconds.rounded())
  if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
  if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
  return "\(s)s"
}

func percent(_ v: Double?) -> String { v.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }

func leftPadded(_ text: String, _ width: Int) -> String {
  text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}
