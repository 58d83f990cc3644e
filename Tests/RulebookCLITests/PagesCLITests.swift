import Foundation
import RulebookTestSupport
import Testing

/// The web pages over HTTP (curl), without a browser: signing in, what each page says, the
/// forms' refusals, CSRF, and other schools' incidents. Tests/browser drives the same pages
/// in Chromium.
@Suite("rulebook serve: the web pages", .serialized)
struct PagesCLITests {
    /// Signs in through the page's form; the session cookie and the CSRF token the pages carry.
    func signIn(_ server: RunningServer, _ name: String, password: String = RunningServer.password) async throws -> (cookie: String, csrf: String) {
        let reply = try await server.request("POST", "/sign-in", body: "name=\(name)&password=\(form(password))&next=%2Fincidents",
                                             contentType: "application/x-www-form-urlencoded")
        #expect(reply.status == 303, "\(reply.body)")
        #expect(reply.headers["location"] == "/incidents")
        let setCookie = try #require(reply.headers["set-cookie"])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
        let page = try await server.request("GET", "/incidents", headers: ["Cookie": cookie])
        let csrf = try #require(Self.csrf(in: page.body))
        return (cookie, csrf)
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    func form(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    func post(_ server: RunningServer, _ path: String, _ fields: [(String, String)], cookie: String) async throws -> RunningServer.Reply {
        try await server.request("POST", path, headers: ["Cookie": cookie], body: fields.map { "\($0.0)=\(form($0.1))" }.joined(separator: "&"),
                                 contentType: "application/x-www-form-urlencoded")
    }

    func events(_ server: RunningServer, _ number: String) async throws -> Int {
        let export = try await server.request("GET", "/api/v1/incidents/\(number)", as: "council-it")
        return (export.json["events"] as? [Any])?.count ?? -1
    }

    @Test("signing in: pages send strangers to the sign-in form and back; a wrong password is refused in words; signing out ends the session")
    func signingIn() async throws {
        let server = try RunningServer()
        let anonymous = try await server.request("GET", "/incidents/INC-2026-0007")
        #expect(anonymous.status == 303)
        #expect(anonymous.headers["location"] == "/sign-in?next=%2Fincidents%2FINC-2026-0007")
        let form = try await server.request("GET", "/sign-in?next=%2Fincidents%2FINC-2026-0007")
        #expect(form.body.contains(#"<label for="password">Password</label>"#))
        #expect(form.body.contains(#"name="next" value="/incidents/INC-2026-0007""#))
        // Only a path on this site is a place to go back to.
        #expect(try await server.request("GET", "/sign-in?next=https://evil.example/").body.contains(#"name="next" value="/incidents""#))
        // A method a page does not take: 405 with what it takes, as the API answers.
        let deleted = try await server.request("DELETE", "/sign-in")
        #expect(deleted.status == 405)
        #expect(deleted.headers["allow"] == "GET, POST")
        #expect(try await server.request("PUT", "/incidents/INC-2026-0007/record").headers["allow"] == "GET, POST")
        let wrong = try await server.request("POST", "/sign-in", body: "name=madras-lead&password=not+it+at+all",
                                             contentType: "application/x-www-form-urlencoded")
        #expect(wrong.status == 401)
        #expect(wrong.body.contains("That name and password do not match an active user."))
        #expect(wrong.headers["set-cookie"] == nil)

        let (cookie, csrf) = try await signIn(server, "madras-lead")
        let list = try await server.request("GET", "/incidents", headers: ["Cookie": cookie])
        #expect(list.status == 200)
        #expect(list.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(list.headers["cache-control"] == "no-store")
        #expect(list.body.contains(#"<a href="/incidents/INC-2026-0007">INC-2026-0007</a>"#))
        #expect(!list.body.contains("LP-2026-0003"), "another school's incident is listed")

        let forged = try await post(server, "/sign-out", [("csrf", "0")], cookie: cookie)
        #expect(forged.status == 403)
        let out = try await post(server, "/sign-out", [("csrf", csrf)], cookie: cookie)
        #expect(out.status == 303 && out.headers["location"] == "/sign-in")
        #expect(try await server.request("GET", "/incidents", headers: ["Cookie": cookie]).status == 303)
        // A form sent after signing out says nothing was recorded, and leads back to the incident.
        let late = try await post(server, "/incidents/INC-2026-0007/record", [("csrf", csrf), ("duty", "report"), ("action", "report"),
                                                                             ("by", "staff")], cookie: cookie)
        #expect(late.status == 401)
        #expect(late.body.contains("so nothing was recorded"))
        #expect(late.body.contains(#"name="next" value="/incidents/INC-2026-0007""#))
        _ = server.stop()
    }

    @Test("an incident's page: duties for my roles with clause and deadline; recording through its form; a refusal beside its field with nothing lost; no CSRF, nothing recorded")
    func recording() async throws {
        let server = try RunningServer()
        let (cookie, csrf) = try await signIn(server, "madras-lead")
        let page = try await server.request("GET", "/incidents/INC-2026-0007", headers: ["Cookie": cookie])
        #expect(page.status == 200)
        #expect(page.body.contains("Your duties"))
        #expect(page.body.contains(#"<span class="clause">["#))
        #expect(page.body.contains(#"<img src="/incidents/INC-2026-0007/timeline.svg""#))
        let svg = try await server.request("GET", "/incidents/INC-2026-0007/timeline.svg", headers: ["Cookie": cookie])
        #expect(svg.status == 200 && svg.headers["content-type"] == "image/svg+xml" && svg.body.contains("<svg"))

        // Opening an incident through the report form; a time that is not one is refused
        // beside its field, with what was typed kept.
        let badTime = try await post(server, "/incidents/new", [("csrf", csrf), ("policy", "madras"), ("fact.discovered_at", "yesterday morning"),
                                                               ("fact.data_subjects", "12")], cookie: cookie)
        #expect(badTime.status == 422)
        #expect(badTime.body.contains("&#39;yesterday morning&#39; is not a date and time"))
        #expect(badTime.body.contains(#"value="12""#))
        let opened = try await post(server, "/incidents/new", [("csrf", csrf), ("policy", "madras"), ("fact.discovered_at", "2026-11-30T08:15"),
                                                              ("fact.data_subjects", "12")], cookie: cookie)
        #expect(opened.status == 303, "\(opened.body)")
        let location = try #require(opened.headers["location"])
        #expect(location.hasPrefix("/incidents/INC-") && location.hasSuffix("?flash=opened"))
        let number = String(location.dropFirst("/incidents/".count).prefix { $0 != "?" })
        let fresh = try await server.request("GET", location, headers: ["Cookie": cookie])
        #expect(fresh.body.contains("The incident is open."))
        #expect(fresh.body.contains(#"<article class="duty overdue" id="duty-report""#) || fresh.body.contains(#"<article class="duty due" id="duty-report""#))
        let export = try await server.request("GET", "/api/v1/incidents/\(number)", as: "council-it")
        #expect((export.json["facts"] as? [String: Any])?["discovered_at"] as? String == "2026-11-30T08:15:00Z")

        // A form sent from another site is refused, token or not.
        let crossSite = try await server.request("POST", "/incidents/\(number)/record",
                                                 headers: ["Cookie": cookie, "Origin": "https://evil.example"],
                                                 body: "csrf=\(csrf)&duty=report&action=report&by=staff",
                                                 contentType: "application/x-www-form-urlencoded")
        #expect(crossSite.status == 403)

        // Each duty of mine has a button to its form, on a page of its own.
        #expect(fresh.body.contains(#"href="/incidents/\#(number)/record?duty=report&amp;action=report">Record: "#))
        let formPage = try await server.request("GET", "/incidents/\(number)/record?duty=report&action=report", headers: ["Cookie": cookie])
        #expect(formPage.status == 200)
        #expect(formPage.body.contains(#"<input type="hidden" name="duty" value="report">"#))
        #expect(try await server.request("GET", "/incidents/\(number)/record?duty=report&action=no_such", headers: ["Cookie": cookie]).status == 404)

        // Without the session's token nothing is recorded.
        let before = try await events(server, number)
        let forged = try await post(server, "/incidents/\(number)/record", [("duty", "report"), ("action", "report"), ("by", "staff")],
                                    cookie: cookie)
        #expect(forged.status == 403)
        #expect(try await events(server, number) == before)

        // Recorded, the duty is done; a note is shown as text, never as markup.
        let recorded = try await post(server, "/incidents/\(number)/record",
                                      [("csrf", csrf), ("duty", "report"), ("action", "report"), ("by", "staff"),
                                       ("note", "<script>alert(1)</script> told the head")], cookie: cookie)
        #expect(recorded.status == 303, "\(recorded.body)")
        #expect(recorded.headers["location"] == "/incidents/\(number)?flash=recorded#duty-report")
        #expect(try await events(server, number) == before + 1)
        let done = try await server.request("GET", "/incidents/\(number)", headers: ["Cookie": cookie])
        // Discovered days ago and reported only now: done, after its deadline.
        #expect(done.body.contains(#"<article class="duty done_late" id="duty-report""#))
        #expect(done.body.contains(#"<span class="badge done_late">Done late</span>"#))
        #expect(done.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; told the head"))
        #expect(!done.body.contains("<script>"))
        // The trail names who recorded it: the signed-in user.
        #expect(done.body.contains("<td>madras-lead</td>"))

        // The same form sent twice (the back button): the second is refused, not recorded.
        let formWithHead = try await server.request("GET", "/incidents/\(number)/record?duty=contain&action=contain_incident", headers: ["Cookie": cookie])
        let head = try #require(formWithHead.body.range(of: #"name="head" value=""#).map { String(formWithHead.body[$0.upperBound...].prefix { $0 != "\"" }) })
        let sent = [("csrf", csrf), ("duty", "contain"), ("action", "contain_incident"), ("by", "staff"), ("head", head)]
        let first = try await post(server, "/incidents/\(number)/record", sent, cookie: cookie)
        #expect(first.status == 303, "\(first.body)")
        let eventsAfterFirst = try await events(server, number)
        let second = try await post(server, "/incidents/\(number)/record", sent, cookie: cookie)
        #expect(second.status == 409)
        #expect(second.body.contains("the incident changed since this form was shown"))
        #expect(try await events(server, number) == eventsAfterFirst)

        // A decision not to notify needs a documented reason: refused beside the reason
        // field, the note kept, nothing recorded.
        let refused = try await post(server, "/incidents/INC-2026-0007/record",
                                     [("csrf", csrf), ("duty", "subjects_decision"),
                                      ("action", "decide_not_to_notify_subjects"), ("by", "dp_lead"), ("note", "kept after refusal")], cookie: cookie)
        #expect(refused.status == 422)
        let reasonField = try #require(refused.body.range(of: #"id="record-reason-error""#))
        let afterField = refused.body[reasonField.upperBound...].prefix(300)
        #expect(afterField.contains("requires a documented reason"), "\(afterField)")
        #expect(refused.body.contains(">kept after refusal</textarea>"))
        #expect(refused.body.contains("<h1>Decide not to notify the data subjects</h1>"))

        // The audit an auditor signs: the chains checked first, then the verdict.
        let audit = try await server.request("GET", "/incidents/INC-2026-0007/audit", headers: ["Cookie": cookie])
        #expect(audit.status == 200)
        #expect(audit.body.contains("<strong>The records check out</strong>"))
        #expect(audit.body.contains(#"<p class="verdict bad"><strong>Not compliant</strong>"#))

        // An action the policy gives to other roles is refused, with the policy's roles named.
        let wrongRole = try await post(server, "/incidents/INC-2026-0007/record",
                                       [("csrf", csrf), ("action", "log_incident"), ("by", "dp_lead")], cookie: cookie)
        #expect(wrongRole.status == 422)
        #expect(wrongRole.body.contains("not to the"))
        _ = server.stop()
    }

    @Test("another school's incident is not found, exactly as a number that does not exist; its timeline and export too")
    func otherSchools() async throws {
        let server = try RunningServer()
        let added = try RulebookBinary.run(["user", "add", "leverton-staff", "--school", "leverton", "--role", "staff", "--password-stdin",
                                            "--register", server.register], stdin: RunningServer.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let (cookie, _) = try await signIn(server, "leverton-staff")
        let list = try await server.request("GET", "/incidents", headers: ["Cookie": cookie])
        #expect(list.body.contains("LP-2026-0003") && !list.body.contains("INC-2026-0007"))
        let theirs = try await server.request("GET", "/incidents/INC-2026-0007", headers: ["Cookie": cookie])
        let missing = try await server.request("GET", "/incidents/INC-2099-0001", headers: ["Cookie": cookie])
        #expect(theirs.status == 404 && missing.status == 404)
        #expect(theirs.body.replacingOccurrences(of: "INC-2026-0007", with: "N") == missing.body.replacingOccurrences(of: "INC-2099-0001", with: "N"))
        for path in ["/incidents/INC-2026-0007/timeline.svg", "/incidents/INC-2026-0007/export.yaml"] {
            #expect(try await server.request("GET", path, headers: ["Cookie": cookie]).status == 404, "\(path)")
        }
        #expect(try await server.request("GET", "/incidents?school=madras", headers: ["Cookie": cookie]).status == 404)
        _ = server.stop()
    }

    @Test("the audit page checks the hash chains first: an event changed behind the register's back gets no verdict, only the problem")
    func tamperedAudit() async throws {
        let server = try RunningServer()
        let (cookie, _) = try await signIn(server, "madras-lead")
        #expect(try RulebookBinary.sqlite(server.register, "DROP TRIGGER event_no_update; UPDATE event SET body = replace(body, 'withdrawn', 'kept') "
                                          + "WHERE body LIKE '%withdrawn%'") == 0)
        let audit = try await server.request("GET", "/incidents/INC-2026-0007/audit", headers: ["Cookie": cookie])
        #expect(audit.status == 200)
        #expect(audit.body.contains("The register's records do not check out"))
        #expect(!audit.body.contains("class=\"verdict"), "a verdict on records that do not check out")
        _ = server.stop()
    }

    @Test("an incident page kept rendered is the page rendered afresh, for each viewer's roles; a new record shows at once")
    func keptPages() async throws {
        let server = try RunningServer()
        let fresh = try RunningServer(sharing: server, extra: ["--page-cache", "0"])
        let added = try RulebookBinary.run(["user", "add", "council-reader", "--all-schools", "--role", "dpo", "--password-stdin",
                                            "--register", server.register], stdin: RunningServer.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        /// The page's main part (the layout names the session's own CSRF token).
        func main(_ server: RunningServer, _ cookie: String, _ path: String) async throws -> String {
            let body = try await server.request("GET", path, headers: ["Cookie": cookie]).body
            guard let start = body.range(of: "<main"), let end = body.range(of: "</main>") else { return body }
            return String(body[start.lowerBound..<end.upperBound])
        }
        for user in ["madras-lead", "council-reader"] {
            let (kept, csrf) = try await signIn(server, user)
            let (afresh, _) = try await signIn(fresh, user)
            for number in ["INC-2026-0007", "LP-2026-0003"] {
                // The same minute on both (the pages say which): once more if it turned.
                var same = false
                for _ in 0..<3 where !same {
                    let first = try await main(server, kept, "/incidents/\(number)")
                    let again = try await main(server, kept, "/incidents/\(number)")
                    let reference = try await main(fresh, afresh, "/incidents/\(number)")
                    same = first == again && again == reference
                }
                #expect(same, "\(user) \(number)")
            }
            if user == "madras-lead" {
                let before = try await main(server, kept, "/incidents/INC-2026-0007")
                let recorded = try await post(server, "/incidents/INC-2026-0007/record",
                                              [("csrf", csrf), ("duty", "coordinate_containment"), ("action", "coordinate_containment"), ("by", "dp_lead"),
                                               ("note", "kept pages check")], cookie: kept)
                #expect(recorded.status == 303, "\(recorded.body)")
                let after = try await main(server, kept, "/incidents/INC-2026-0007")
                #expect(before != after && after.contains("kept pages check"))
            }
        }
        _ = fresh.stop()
        _ = server.stop()
    }

    @Test("a policy's page: the procedure as rulebook show writes it, its assumptions, the coverage of the document, and the diagram")
    func policyPage() async throws {
        let server = try RunningServer()
        let (cookie, _) = try await signIn(server, "madras-lead")
        let page = try await server.request("GET", "/policies/madras", headers: ["Cookie": cookie])
        #expect(page.status == 200)
        #expect(page.body.contains(#"<h1 id="data-breach-policy-and-procedure">Data Breach Policy and Procedure</h1>"#))
        #expect(page.body.contains(#"<h2 id="assumptions">Assumptions</h2>"#))
        #expect(page.body.contains(#"<h2 id="coverage">Coverage</h2>"#))
        #expect(page.body.contains("<table>"))
        #expect(!page.body.contains("**"), "Markdown left unrendered")
        let diagram = try await server.request("GET", "/policies/madras/diagram.svg", headers: ["Cookie": cookie])
        #expect(diagram.status == 200 && diagram.body.contains("<svg"))
        #expect(try await server.request("GET", "/policies/nope", headers: ["Cookie": cookie]).status == 404)
        _ = server.stop()
    }
}
