import ArgumentParser
import CBuildInfo
import Foundation
import RulebookCore

/// The root command: `rulebook <subcommand>`.
struct Rulebook: ParsableCommand {
    /// The version: written here and nowhere else (the Makefile reads it from this line
    /// for `make deb` and `make print-version`).
    static let version = "0.1.0"

    /// What `--version` prints: the version, then the commit and the day of the build
    /// when the build recorded them (the Makefile's release builds do; see CBuildInfo).
    static let versionLine: String = {
        let commit = String(cString: rulebook_build_commit())
        let date = String(cString: rulebook_build_date())
        guard !commit.isEmpty else {
            return "rulebook \(version) (development build: no commit or build date recorded; make install and make deb record them)"
        }
        return "rulebook \(version) (commit \(commit), built \(date.isEmpty ? "on an unrecorded day" : date))"
    }()

    static let configuration = CommandConfiguration(
        commandName: "rulebook",
        abstract: "Apply information-security-incident and data-breach policies, written as data.",
        discussion: """
            Incidents live in case files or in the register (rulebook.sqlite, or --register / \
            $RULEBOOK_REGISTER; a register in PostgreSQL with --database / $RULEBOOK_DATABASE). A policy is a YAML file (see rulebook-policy(5) and \
            Schemas/policy.schema.json); case files and trails are described in rulebook-case(5). POLICY \
            is an id found in the policies folder or a path to a policy file. The policies folder is \
            --policies DIR; else ./Policies when there is one; else the policies installed with \
            rulebook, in PREFIX/share/rulebook/Policies (/usr/share/rulebook/Policies from the Debian \
            package).

            Exit status: 0 success; 1 the answer is "no" (validation found errors, an audit \
            found violations, a policy test failed); 2 trouble (unreadable or invalid input, \
            unknown policy, bad usage).
            """,
        version: versionLine,
        subcommands: [
            Validate.self, Show.self, Coverage.self, Diff.self, Graph.self, TimelineCommand.self, Assess.self, Next.self, Audit.self, Test.self,
            Open.self, Record.self, List.self, Report.self, Verify.self, Export.self, Import.self, Migrate.self, Key.self, CheckpointCommand.self,
            Remind.self, CalendarCommand.self, DraftCommand.self, NotifyCommand.self, OutboxCommand.self, Serve.self, UserCommand.self,
        ]
    )
}

/// The `rulebook` executable's entry point.
public enum CommandLineMain {
    /// Runs the command and maps every outcome to the documented exit statuses; errors
    /// are printed as one message, never as a stack trace.
    public static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // With `--format json` a failure is one JSON object on standard output.
        Terminal.errorsAsJSON = zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" }
            || arguments.contains("--format=json")
        do {
            if let request = FastPath.request(Array(CommandLine.arguments.dropFirst())) {
                try request.run()
            } else {
                var command = try Rulebook.parseAsRoot()
                try command.run()
            }
        } catch let trouble as Trouble {
            if Terminal.errorsAsJSON {
                let report = ErrorReport(message: trouble.message, hint: trouble.hint, details: trouble.details,
                                         diagnostics: Terminal.heldDiagnostics)
                Terminal.standardOutput.write(report.json() + "\n")
                exit(2)
            }
            Terminal.standardError.write("rulebook: error: \(trouble.message.printable)\n")
            for detail in trouble.details { Terminal.standardError.write("  - \(detail.printable)\n") }
            if let hint = trouble.hint { Terminal.standardError.write("hint: \(hint.printable)\n") }
            exit(2)
        } catch let end as Exit {
            exit(end.status)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = Rulebook.exitCode(for: error)
            if code == .success {
                Rulebook.exit(withError: error)  // --help, --version: prints and exits 0
            }
            if Terminal.errorsAsJSON {
                let report = ErrorReport(message: Rulebook.message(for: error), diagnostics: Terminal.heldDiagnostics)
                Terminal.standardOutput.write(report.json() + "\n")
            } else {
                Terminal.standardError.write(Rulebook.fullMessage(for: error) + "\n")
            }
            // Usage errors are "trouble" (2), as with grep and diff, not sysexits' 64.
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
