import ArgumentParser
import Foundation

/// A user-facing error: printed as "error: <message>", exit status 1.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// Runs `body`, printing any error as "error: ..." and exiting with status 1, or 64 (usage) for a
/// `ValidationError` thrown while resolving flags, with a pointer to the subcommand's help (left to
/// ArgumentParser, such an error would show the usage of `agr` itself).
func reportingErrors<Command: ParsableCommand>(_ command: Command.Type, _ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch let error as ValidationError {
    let name = Command.configuration.commandName ?? String(describing: Command.self).lowercased()
    FileHandle.standardError.write(Data("error: \(error.message)\nsee 'agr \(name) --help'\n".utf8))
    throw ExitCode.validationFailure
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}
