import ArgumentParser
import Foundation
import RulebookCore
import RulebookPostgres
import RulebookRegister

/// `rulebook migrate`: copies an SQLite register into a new PostgreSQL database, with its
/// chains, verifying both ends.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a register into an empty PostgreSQL database, with its hash chains, and verify both ends.",
        discussion: """
            The register is verified first and copied only when intact; every row goes \
            across in one transaction (all or nothing), as it is; then the database is read \
            back and verified by the same chain walk as `rulebook verify`, and its head must \
            be the register's. The database gets the register's tables, triggers that refuse \
            any UPDATE, DELETE or TRUNCATE of evidence, and, with --writer-role, a role granted \
            SELECT and INSERT but no UPDATE or DELETE of evidence. The register file is not \
            changed. From then on, record in the database only, with --database URL (as the \
            writer role) on any command and on rulebook serve; the file falls behind. Never \
            drop the database to migrate again: what was recorded there would be lost.
            Exit 0 copied and verified, 2 nothing copied (the register does not check out, \
            the database is not empty, trouble) or the copy does not check out.
            """)

    @Option(name: .long, help: ArgumentHelp("The SQLite register to copy.", valueName: "path"), completion: .file(extensions: ["sqlite"]))
    var from: String

    @Option(name: .long, help: ArgumentHelp(
        "The empty PostgreSQL database (postgres://USER@HOST:PORT/DATABASE; the password from $PGPASSWORD or ~/.pgpass). USER must be able to create tables there.",
        valueName: "url"))
    var to: String

    @Option(name: .long, help: ArgumentHelp(
        "An existing role to grant what a writer needs: read everything, add evidence, move the head; no UPDATE or DELETE of evidence.",
        valueName: "role"))
    var writerRole: String?

    @Option(name: .long, help: ArgumentHelp("Also check both ends against the checkpoints signed with this public key.", valueName: "file"))
    var publicKey: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let location: PostgresLocation
        do { location = try PostgresLocation(url: to) } catch let error as RegisterError { throw Trouble(error.message, hint: error.hint) }
        guard FileManager.default.fileExists(atPath: from) else {
            throw Trouble("there is no register at '\(from)'", hint: "give the SQLite register's path with --from")
        }
        let source = try RegisterOptions.open(from, .read)
        let key = try RegisterOptions.publicKey(publicKey)
        let progress = Progress()
        let migration = try registerCall(colour: output.colourErrors) {
            try PostgresRegister.migrate(from: source, to: location, writerRole: writerRole, publicKey: key) { done, total in
                progress.update(done, "of \(total) rows copied")
            }
        }
        progress.finish()
        let copied = migration.rows.values.reduce(0, +)
        if output.format == .json {
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("from", string: from)
                w.field("to", string: location.display)
                w.field("rows") { w in w.object { w in for table in Register.tables { w.field(table.name, int: migration.rows[table.name] ?? 0) } } }
                w.field("writer_role") { w in if let role = migration.writerRole { w.string(role) } else { w.null() } }
                for (name, report) in [("source", migration.source), ("destination", migration.destination)] {
                    w.field(name) { w in
                        w.object { w in
                            w.field("intact", bool: report.isIntact)
                            w.field("incidents", int: report.incidents)
                            w.field("events", int: report.events)
                            w.field("head") { w in w.object { w in w.field("records", int: Int(report.headRecords)); w.field("hash", string: report.headHash) } }
                            w.field("signatures_checked", bool: report.signaturesChecked)
                            w.field("checkpoints", int: report.checkpoints)
                        }
                    }
                }
            }
            Terminal.standardOutput.write(w.text + "\n")
            return
        }
        let d = migration.destination
        Terminal.standardOutput.write("""
            copied \(from) to \(location.display): \(copied) rows (\(d.incidents) incident\(d.incidents == 1 ? "" : "s"), \(d.events) event\(d.events == 1 ? "" : "s"))
            verified both ends: intact, head record #\(d.headRecords), \(d.headHash)
            \(d.signaturesChecked ? "signed: \(d.checkpoints) checkpoint\(d.checkpoints == 1 ? "" : "s") checked at both ends against the public key" : "unsigned: only the hash chains were checked (give --public-key to check signed checkpoints)")
            append-only: triggers refuse UPDATE, DELETE and TRUNCATE of evidence\(migration.writerRole.map { "; role \($0) may read and add, not change or delete" } ?? " (give --writer-role ROLE for a role that cannot change it either)")
            read it with: rulebook verify --database '\(location.display)'

            """)
    }
}
