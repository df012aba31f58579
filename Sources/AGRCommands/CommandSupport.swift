import ArgumentParser
import Foundation

/// A user-facing error: printed as "error: <message>", exit status 1.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// Runs `body`, printing any error but a usage error as "error: ..." and exiting with status 1.
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ValidationError {
    throw error
  } catch let error as ExitCode {
    throw error
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}
