import ArgumentParser

/// A subcommand whose feature has not landed yet: it says so and exits 2.
protocol NotBuiltCommand: ParsableCommand {}

extension NotBuiltCommand {
    func run() throws {
        throw Trouble("'\(Self._commandName)' is not built yet", hint: "see the open issues for its progress")
    }
}
