import Foundation
import RulebookTestSupport
import Testing

/// A policy of one duty, 48 hours from discovery, reminded a day before and at the
/// deadline: small enough to know every reminder by hand.
private let policyText = """
    id: drill
    title: Reminder drill
    organisation: Test School
    time_zone: Europe/London
    roles:
      lead: {title: Incident lead}
    facts:
      discovered_at: {type: datetime, question: When was it discovered?, clause: "1"}
    actions:
      notify: {title: Notify the regulator, roles: [lead]}
    duties:
      notify:
        title: Notify the regulator
        role: lead
        action: notify
        from: {fact: discovered_at}
        within: PT48H
        clause: "2"
    reminders:
      before: [PT24H, PT0S]
      assumption: The drill's own choice.
    """

/// A register with one drill incident discovered at `discovered`; returns the register's
/// path, the policies folder and the incident number.
private func drill(discovered: String) throws -> (register: String, policies: String, number: String) {
    let folder = try RulebookBinary.temporaryFolder()
    let policies = folder.appendingPathComponent("policies")
    try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
    try policyText.write(to: policies.appendingPathComponent("drill.yaml"), atomically: true, encoding: .utf8)
    let facts = folder.appendingPathComponent("facts.yaml")
    try "discovered_at: \(discovered)\n".write(to: facts, atomically: true, encoding: .utf8)
    let register = folder.appendingPathComponent("r.sqlite").path
    let opened = try RulebookBinary.run(["open", "drill", "--facts", facts.path, "--policies", policies.path, "--register", register,
                                         "--at", discovered])
    guard opened.status == 0 else { throw ServeTestError(opened.stderr) }
    return (register, policies.path, opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// Runs Python with `icalendar` on a feed; `script` reads the parsed calendar as `cal`.
private func python(_ feed: String, _ script: String) throws -> (Int32, String) {
    let file = try RulebookBinary.temporaryFolder().appendingPathComponent("feed.ics")
    try feed.write(to: file, atomically: true, encoding: .utf8)
    let run = try RulebookBinary.run(["python3", "-c", "import icalendar, sys\ncal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n" + script,
                                      file.path], executable: "/usr/bin/env")
    return (run.status, run.stdout + run.stderr)
}

@Suite("rulebook remind and rulebook calendar")
struct ReminderCLITests {
    @Test("a reminder a day before a deadline across the October clock change falls 24 real hours before it: exit 0 before, 1 from then")
    func acrossDST() throws {
        // Discovered 10:00 BST on Saturday 24 October 2026; the clocks go back at 02:00 on
        // the 25th; the deadline is 48 hours later, 09:00 GMT on the 26th.
        let (register, _, number) = try drill(discovered: "2026-10-24T10:00:00+01:00")
        let before = try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-25T08:59:00Z"])
        #expect(before.status == 0, "\(before.stdout)")
        #expect(before.stdout == "nothing due at 2026-10-25T08:59:00Z\n")
        let due = try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-25T09:00:00Z"])
        #expect(due.status == 1)
        #expect(due.stdout == "DUE      \(number)  Notify the regulator — by 2026-10-26 09:00 GMT (1 day left) — lead  [§2]\n")
        let json = try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-26T09:00:00Z", "--format", "json"])
        #expect(json.stdout.contains("\"reminder_point\": \"PT0S\""))
        let after = try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-26T09:01:00Z"])
        #expect(after.status == 1)
        #expect(after.stdout.hasPrefix("OVERDUE  \(number)  Notify the regulator — by 2026-10-26 09:00 GMT (1 minute ago)"))
        // --within chooses by the window instead of the policy's points.
        #expect(try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-24T09:00:00Z", "--within", "PT47H"]).status == 0)
        #expect(try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-24T09:00:00Z", "--within", "PT48H"]).status == 1)
        let bad = try RulebookBinary.run(["remind", "--register", register, "--within", "P2D"])
        #expect(bad.status == 2)
    }

    @Test("the feed parses with a real iCalendar parser; alarms at the policy's points; a done duty is the same event CANCELLED with a higher SEQUENCE")
    func feed() throws {
        let (register, _, number) = try drill(discovered: "2026-10-24T10:00:00+01:00")
        let first = try RulebookBinary.run(["calendar", "--register", register, "--at", "2026-10-25T12:00:00Z"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        let (status, out) = try python(first.stdout, """
            events = cal.walk('VEVENT')
            assert len(events) == 1, events
            e = events[0]
            assert str(e['UID']) == '\(number)-notify@rulebook', e['UID']
            assert str(e['STATUS']) == 'CONFIRMED'
            start = e.decoded('DTSTART')
            assert start.isoformat() == '2026-10-26T09:00:00+00:00', start
            alarms = [start + a.decoded('TRIGGER') for a in e.walk('VALARM')]
            assert [a.isoformat() for a in alarms] == ['2026-10-25T09:00:00+00:00', '2026-10-26T09:00:00+00:00'], alarms
            assert 'Europe/London' in str(e['DESCRIPTION'])
            print(int(e['SEQUENCE']))
            """)
        #expect(status == 0, "\(out)")
        let firstSequence = Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let recorded = try RulebookBinary.run(["record", number, "notify", "--by", "lead", "--register", register, "--at", "2026-10-25T13:00:00Z"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let second = try RulebookBinary.run(["calendar", number, "--register", register, "--at", "2026-10-25T14:00:00Z"])
        let (status2, out2) = try python(second.stdout, """
            e = cal.walk('VEVENT')[0]
            assert str(e['UID']) == '\(number)-notify@rulebook'
            assert str(e['STATUS']) == 'CANCELLED', e['STATUS']
            assert not e.walk('VALARM')
            print(int(e['SEQUENCE']))
            """)
        #expect(status2 == 0, "\(out2)")
        #expect((Int(out2.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1) > firstSequence)
        // Nothing due once it is done.
        #expect(try RulebookBinary.run(["remind", "--register", register, "--at", "2026-10-26T10:00:00Z"]).status == 0)
    }

    @Test("the shipped policies' reminders reach the feed of the shipped examples; lines are folded at 75 octets; --role filters")
    func shipped() throws {
        let register = try ReportCLITests.register()
        let feed = try RulebookBinary.run(["calendar", "--register", register, "--at", "2026-11-02T10:00:00Z"])
        #expect(feed.status == 0)
        #expect(feed.stdout.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 75 })
        let (status, out) = try python(feed.stdout, """
            open_events = [e for e in cal.walk('VEVENT') if str(e['STATUS']) == 'CONFIRMED']
            assert open_events
            for e in open_events:
                triggers = sorted(a.decoded('TRIGGER').total_seconds() for a in e.walk('VALARM'))
                assert triggers == [-86400, -14400, 0], triggers
            print(len(cal.walk('VEVENT')))
            """)
        #expect(status == 0, "\(out)")
        let lead = try RulebookBinary.run(["calendar", "--register", register, "--role", "dp_lead", "--at", "2026-11-02T10:00:00Z"])
        #expect(lead.stdout.contains("INC-2026-0007") && !lead.stdout.contains("CNL-2026-0142"))
        #expect(try RulebookBinary.run(["calendar", "--register", register, "--role", "nobody"]).status == 2)
    }
}
