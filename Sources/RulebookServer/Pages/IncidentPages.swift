import Foundation
import Hummingbird
import RulebookCore
import RulebookDiagnostics
import RulebookRegister
import RulebookYAML

extension Pages {
    // MARK: My incidents

    static let listStates: [(value: String, label: String)] = [("open", "Open"), ("overdue", "Overdue"), ("closed", "Closed"), ("all", "All")]

    func incidentsPage(_ request: Request, _ viewer: Viewer) throws -> Response {
        let at = api.clock()
        let school = api.query(request, "school").flatMap { $0.isEmpty ? nil : $0 }
        let policy = api.query(request, "policy").flatMap { $0.isEmpty ? nil : $0 }
        let state = api.query(request, "state").flatMap { $0.isEmpty ? nil : $0 } ?? "open"
        guard Self.listStates.contains(where: { $0.value == state }) else {
            throw APIError(.badRequest, "state '\(state)' is not one of: " + Self.listStates.map(\.value).joined(separator: ", "))
        }
        if let school, !viewer.user.sees(school: school) { throw APIError(.notFound, "no school '\(school)' among yours") }
        var rows: [IncidentStatus] = []
        var schools = Set(viewer.user.schools)
        try api.register.statuses(policy: policy, school: school, at: at) { row in
            guard viewer.user.sees(school: row.summary.school) else { return }
            if let s = row.summary.school { schools.insert(s) }
            switch state {
            case "open": guard row.closedAt == nil else { return }
            case "closed": guard row.closedAt != nil else { return }
            case "overdue": guard row.overdue > 0 else { return }
            default: break
            }
            rows.append(row)
        }
        // Overdue first, then the nearest deadline, then the newest.
        rows.sort { a, b in
            if (a.overdue > 0) != (b.overdue > 0) { return a.overdue > 0 }
            switch (a.next?.deadline, b.next?.deadline) {
            case let (x?, y?) where x != y: return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.summary.number > b.summary.number
            }
        }
        let models: [[String: Any]] = rows.prefix(500).map { row in
            let p = row.policy
            var next: [[String: Any]] = []
            if let n = row.next {
                let left = n.deadline - at
                let words = left >= 0 ? "\(Durations.describe(left)) left" : "overdue by \(Durations.describe(-left))"
                next.append(["deadline": "\(p.clock.describe(n.deadline)) (\(words))", "duty": p.duties[n.duty].title,
                             "role": p.roles[p.duties[n.duty].roles[0]].title])
            }
            let noNext = row.closedAt != nil ? "closed \(p.clock.describe(row.closedAt!))"
                : row.clockUnknown.isEmpty ? "nothing due now" : "a deadline waits on an open question"
            return ["number": row.summary.number, "school": row.summary.school ?? "—", "policy": p.title,
                    "opened": p.clock.describe(row.summary.openedAt), "next": next, "no_next": noNext,
                    "overdue": row.overdue > 0 ? [row.overdue] : [Int](), "state": row.closedAt == nil ? "Open" : "Closed",
                    "state_class": row.closedAt == nil ? "open" : "closed"]
        }
        let overdue = rows.count { $0.overdue > 0 }
        let scope = viewer.user.allSchools ? "Every school's incidents" : "Incidents of " + viewer.user.schools.joined(separator: ", ")
        let model: [String: Any] = [
            "scope": scope, "count": rows.count > 500 ? "500 of \(rows.count)" : String(rows.count), "overdue_count": overdue > 0 ? [overdue] : [Int](),
            "schools": schools.sorted().map { ["value": $0, "selected": $0 == school] as [String: Any] },
            "policies": api.policies.values.map(\.policy).sorted { $0.title < $1.title }
                .map { ["value": $0.id, "label": "\($0.title) (\($0.organisation))", "selected": $0.id == policy] as [String: Any] },
            "states": Self.listStates.map { ["value": $0.value, "label": $0.label, "selected": $0.value == state] as [String: Any] },
            "rows": models, "has_rows": !models.isEmpty, "filtered": school != nil || policy != nil || state != "all",
        ]
        return page("incidents", model, title: "My incidents", viewer: viewer, nav: "incidents")
    }

    // MARK: Report an incident

    /// The facts a reporter may give when opening: those their roles may set (or anyone).
    func openingFacts(_ policy: Policy, _ viewer: Viewer) -> [Int] {
        let mine = Set(viewer.roles(in: policy))
        return policy.facts.indices.filter { slot in
            guard let setBy = policy.facts[slot].setBy else { return true }
            return setBy.contains { r in mine.contains { policy.role($0, actsAs: r) } }
        }
    }

    func reportPage(policy id: String?, viewer: Viewer, state: FormState?) throws -> Response {
        let all = api.policies.values.map(\.policy).sorted { $0.title < $1.title }
        let chosen: Policy? = try id.map { try api.served($0).policy } ?? (all.count == 1 ? all[0] : nil)
        guard let policy = chosen else {
            let model: [String: Any] = ["choose": true, "form": false,
                                        "policies": all.map { ["value": $0.id, "label": "\($0.title) — \($0.organisation)", "checked": false] as [String: Any] }]
            return page("report", model, title: "Report an incident", viewer: viewer, nav: "report")
        }
        let given = state?.form["school"]
        let schools = viewer.user.allSchools ? [] : viewer.user.schools
        let facts = openingFacts(policy, viewer).map { FactField.model($0, policy: policy, prefix: "open", state: state) }
        let form: [String: Any] = [
            "csrf": viewer.csrf, "policy": policy.id, "policy_title": policy.title, "organisation": policy.organisation,
            "zone": policy.clock.identifier, "schools": schools.map { ["value": $0, "selected": $0 == given] as [String: Any] },
            "many_schools": schools.count > 1, "any_school": viewer.user.allSchools, "school_value": given ?? "",
            "facts": facts, "errors": state?.general ?? [], "has_errors": !(state?.general ?? []).isEmpty,
        ]
        return page("report", ["choose": false, "form": form], title: "Report an incident", viewer: viewer, nav: "report",
                    status: state == nil ? .ok : .unprocessableContent)
    }

    func openIncident(_ request: Request, _ viewer: Viewer) async throws -> Response {
        let form = try await form(request, viewer)
        guard let id = form["policy"] else { throw APIError(.badRequest, "the form did not say which policy") }
        let served = try api.served(id)
        let policy = served.policy
        var state = FormState(key: "open", form: form)
        let school: String?
        if viewer.user.allSchools {
            school = form["school"]
        } else if let given = form["school"] {
            guard viewer.user.sees(school: given) else { throw APIError(.forbidden, "you may not open incidents for '\(given)'") }
            school = given
        } else {
            guard viewer.user.schools.count == 1 else { throw APIError(.badRequest, "say which of your schools") }
            school = viewer.user.schools[0]
        }
        var nodes = FormNodes()
        var pairs: [Node.Pair] = []
        for slot in openingFacts(policy, viewer) {
            let name = "fact." + policy.facts[slot].id
            do {
                if let node = try nodes.fact(slot, of: policy, from: form, name: name) { pairs.append(FormNodes.pair(policy.facts[slot].id, node)) }
            } catch {
                state.add(error.message, field: error.field)
            }
        }
        var facts: [FactAssignment] = []
        if state.errors.isEmpty {
            let root = Node(.mapping([FormNodes.pair("facts", Node(.mapping(pairs), span: FormNodes.whole))]), span: FormNodes.whole)
            let (file, diagnostics) = CaseLoader.load(root, policy: policy)
            for d in diagnostics where d.severity == .error { state.add(d.message, field: nodes.field(of: d)) }
            facts = file?.facts ?? []
        }
        guard state.errors.isEmpty, state.general.isEmpty else {
            if state.general.isEmpty { state.general.append("Some answers need another look: see the fields marked below.") }
            return try reportPage(policy: id, viewer: viewer, state: state)
        }
        let number = try api.register.openIncident(lineage: served.lineage, policy: policy, facts: facts, school: school, at: api.clock())
        return redirect("/incidents/\(number)?flash=opened")
    }

    // MARK: An incident

    static func stateWords(_ state: DutyState) -> String {
        switch state {
        case .overdue: return "Overdue"
        case .due: return "Due"
        case .unknown: return "Undecided"
        case .waiting: return "Waiting"
        case .done: return "Done"
        case .doneLate: return "Done late"
        case .notApplicable: return "Not applicable"
        }
    }

    /// When a duty falls due, in words, in the policy's zone with the zone named.
    static func when(_ status: DutyStatus, _ evaluation: Evaluation) -> String? {
        let clock = evaluation.policy.clock, at = evaluation.at
        switch status.state {
        case .done, .doneLate:
            return status.doneAt.map { "Done \(clock.describe($0))" + (status.state == .doneLate ? ", after its deadline" : "") }
        case .overdue:
            return status.deadline.map { "Was due by \(clock.describe($0)): overdue by \(Durations.describe(at - $0))" }
        case .due, .unknown, .waiting:
            if status.clockUnknown {
                let facts = evaluation.policy.duties[status.duty].clock.map { clock -> [String] in
                    var names: [String] = []
                    func walk(_ c: Clock) {
                        switch c {
                        case .fact(let slot) where !evaluation.values.slots[slot].isKnown: names.append(evaluation.policy.facts[slot].title)
                        case .earliest(let parts), .latest(let parts): parts.forEach(walk)
                        default: break
                        }
                    }
                    walk(clock)
                    return names
                } ?? []
                return "The deadline waits on an answer" + (facts.isEmpty ? "" : ": " + facts.joined(separator: ", "))
            }
            guard let deadline = status.deadline else {
                return status.state == .unknown ? "Whether it applies waits on an answer" : status.state == .waiting ? nil : "No deadline: the policy sets none"
            }
            // Passed, yet not overdue: it may not apply (undecided) or waits for another duty.
            if deadline <= at {
                let passed = "\(clock.describe(deadline)), \(Durations.describe(at - deadline)) ago"
                return status.state == .unknown ? "If it applies, it is overdue: it was due by \(passed). Answer the question it waits on."
                    : "Its deadline has passed: \(passed)"
            }
            var text = ""
            if let notBefore = status.notBefore, notBefore > at { text += "Not before \(clock.describe(notBefore)). " }
            if let target = status.target, at <= target { text += "Aim for \(clock.describe(target)); " }
            return text + "by \(clock.describe(deadline)): \(Durations.describe(deadline - at)) left"
        case .notApplicable:
            return nil
        }
    }

    /// The record forms of one action for this viewer, or none when none of their roles may
    /// take it. `prefer` puts a duty's own roles first.
    func recordForm(_ action: Int, key: String, policy: Policy, number: String, viewer: Viewer, prefer: [Int], also: [Int] = [],
                    state: FormState?) -> [String: Any]? {
        let a = policy.actions[action]
        let mine = viewer.roles(in: policy)
        var roles = mine.filter { r in a.roles.map { $0.contains { policy.role(r, actsAs: $0) } } ?? true }
        guard !roles.isEmpty else { return nil }
        roles.sort { x, y in
            let px = prefer.contains { policy.role(x, actsAs: $0) }, py = prefer.contains { policy.role(y, actsAs: $0) }
            return px != py ? px : x < y
        }
        let mineState = state
        let chosenRole = mineState?.form["by"]
        let facts = a.establishes
        let alsoAsked = also.filter { !facts.contains($0) }
        var decision: [[String: Any]] = []
        if let d = a.decision, d.asserts == nil {
            let name = "value"
            var field: [String: Any] = [
                "name": name, "id": key + "-value", "question": "The decision: \(Self.slotTitle(policy, d.slot))", "clause": [String](),
                "explain": ["An audit works it out again from the facts and compares."], "errors": mineState?.errors[name] ?? [],
                "has_errors": !(mineState?.errors[name] ?? []).isEmpty, "is_choice": false, "is_text": false, "input": "text",
                "step": [String](), "min": [String](), "max": [String](), "value": mineState?.form[name] ?? "", "choices": [[String: Any]](),
            ]
            let given = mineState?.form[name]
            func choices(_ list: [(String, String)]) -> [[String: Any]] {
                list.map { ["id": key + "-value-" + $0.0, "name": name, "value": $0.0, "label": $0.1, "input": "radio", "checked": given == $0.0] as [String: Any] }
            }
            switch policy.slotType(d.slot) {
            case .bool:
                field["is_choice"] = true
                field["choices"] = choices([("true", "Yes"), ("false", "No")])
            case .option(let domain):
                field["is_choice"] = true
                field["choices"] = choices(domain.options.map { ($0.id, $0.title) })
            case .int:
                field["input"] = "number"
                field["step"] = ["1"]
            default:
                break
            }
            decision.append(field)
        }
        let reasonErrors = mineState?.errors["reason"] ?? []
        return [
            "key": key, "anchor": key, "number": number, "csrf": viewer.csrf, "action": a.id,
            "action_title": a.title,
            "open": mineState != nil, "has_errors": !(mineState?.general ?? []).isEmpty, "errors": mineState?.general ?? [],
            "many_roles": roles.count > 1,
            "roles": roles.map { ["value": policy.roles[$0].id, "label": policy.roles[$0].title, "selected": policy.roles[$0].id == chosenRole] as [String: Any] },
            "facts": facts.map { FactField.model($0, policy: policy, prefix: key, state: mineState) }, "decision": decision,
            "also": alsoAsked.map { FactField.model($0, policy: policy, prefix: key, state: mineState) }, "has_also": !alsoAsked.isEmpty,
            "reason_required": a.reasonRequired, "reason_clause": opt(a.provenance?.citation(in: policy.id)),
            "reason_errors": reasonErrors, "has_reason_errors": !reasonErrors.isEmpty, "reason": mineState?.form["reason"] ?? "",
            "at": mineState?.form["at"] ?? "", "at_errors": mineState?.errors["at"] ?? [], "note": mineState?.form["note"] ?? "",
            "zone": policy.clock.identifier,
        ]
    }

    /// Whether one of the viewer's roles may take `action` under the policy.
    func mayTake(_ action: Int, _ policy: Policy, _ viewer: Viewer) -> Bool {
        let allowed = policy.actions[action].roles
        return viewer.roles(in: policy).contains { r in allowed.map { $0.contains { policy.role(r, actsAs: $0) } } ?? true }
    }

    /// Whether one of the viewer's roles may set `fact` (a fact without `set_by`: anyone with
    /// a role in the policy).
    func maySet(_ fact: Int, _ policy: Policy, _ viewer: Viewer) -> Bool {
        let mine = viewer.roles(in: policy)
        return policy.facts[fact].setBy.map { setBy in setBy.contains { r in mine.contains { policy.role($0, actsAs: r) } } } ?? !mine.isEmpty
    }

    /// Who answers an open question, and the viewer's buttons to answer it: the actions
    /// that establish its fact. A fact no action establishes comes with whatever someone
    /// records: every record form of the viewer's asks it (nothing is recorded only to
    /// carry an answer, which would put an action in the trail that nobody took).
    func answering(_ fact: Int, _ policy: Policy, _ viewer: Viewer, number: String) -> (who: String, buttons: [[String: Any]]) {
        let f = policy.facts[fact]
        let establishing = policy.actions.indices.filter { policy.actions[$0].establishes.contains(fact) }
        let buttons: [[String: Any]] = establishing.filter { mayTake($0, policy, viewer) }.map { a in
            ["title": policy.actions[a].title, "href": "/incidents/\(number)/record?question=\(f.id)&action=\(policy.actions[a].id)"]
        }
        let setters = f.setBy.map { "the " + $0.map { policy.roles[$0].title }.joined(separator: " or ") } ?? "anyone handling the incident"
        if !establishing.isEmpty {
            let how = establishing.map { policy.actions[$0].title }.joined(separator: " or ")
            return ("Answered by \(setters), by recording: \(how)." + (buttons.isEmpty ? " None of your roles records it." : ""), buttons)
        }
        return (maySet(fact, policy, viewer)
            ? "Answered by \(setters), along with anything they record: the forms you record with ask it."
            : "Answered by \(setters), along with anything they record.", [])
    }

    /// One record form on a page of its own: for a duty's action, or for an action that
    /// answers an open question; shown again after a refusal with what was typed and the
    /// reasons beside the fields.
    func recordPage(_ number: String, _ viewer: Viewer, duty dutyID: String?, question factID: String?, action actionID: String?,
                    state: FormState?) throws -> Response {
        let (stored, policy) = try api.visibleIncident(number, viewer.user)
        let evaluation = Engine(policy: policy).evaluate(stored.file, at: api.clock())
        let head = try api.register.head(of: number).hash
        let notHere = APIError(.notFound, "there is no such thing to record on incident \(number)", hint: "go back to the incident's page")
        let action: Int? = try actionID.map { id in
            guard let a = policy.actions.firstIndex(where: { $0.id == id }) else { throw notHere }
            return a
        }
        // The open questions the viewer may answer that no action establishes: asked,
        // optionally, on every form.
        let askAlso = evaluation.questions.map(\.fact).filter { f in
            maySet(f, policy, viewer) && !policy.actions.contains { $0.establishes.contains(f) }
        }
        var model: [String: Any] = ["number": number, "duty_context": false, "question_context": false]
        var form: [String: Any]?
        let heading: String
        if let dutyID {
            guard let d = policy.duties.firstIndex(where: { $0.id == dutyID }), let status = evaluation.duties.first(where: { $0.duty == d }),
                  let a = action ?? (policy.duties[d].actions.count == 1 ? policy.duties[d].actions[0] : nil), policy.duties[d].actions.contains(a)
            else { throw notHere }
            let duty = policy.duties[d]
            heading = policy.actions[a].title
            form = recordForm(a, key: "record", policy: policy, number: number, viewer: viewer, prefer: duty.roles, also: askAlso, state: state)
            let waiting = evaluation.waitingFor(status).map { policy.duties[$0].title }
            model["duty_context"] = [
                "title": duty.title, "state": Self.stateWords(status.state), "state_class": status.state.rawValue,
                "role": duty.roles.map { policy.roles[$0].title }.joined(separator: " or "), "clause": duty.provenance.citation(in: policy.id),
                "when": opt(Self.when(status, evaluation)), "must": opt(duty.must), "how": opt(duty.how),
                "warning": status.state == .waiting && !waiting.isEmpty
                    ? ["It waits for: \(waiting.joined(separator: "; ")). Recorded now, it is out of order, and the audit will say so."] : [String](),
            ] as [String: Any]
        } else if let factID, let a = action {
            guard let f = policy.facts.firstIndex(where: { $0.id == factID }), policy.actions[a].establishes.contains(f) else { throw notHere }
            let fact = policy.facts[f]
            heading = fact.question.isEmpty ? fact.title : fact.question
            form = recordForm(a, key: "record", policy: policy, number: number, viewer: viewer, prefer: fact.setBy ?? [], also: askAlso, state: state)
            model["question_context"] = ["text": heading, "clause": fact.provenance.citation(in: policy.id),
                                         "who": answering(f, policy, viewer, number: number).who] as [String: Any]
        } else {
            throw notHere
        }
        guard var form else {
            throw APIError(.forbidden, "none of your roles (\(viewer.user.roles.joined(separator: ", "))) may record this under policy '\(policy.id)'")
        }
        form["duty"] = opt(dutyID)
        form["question"] = opt(factID)
        // The incident as the form saw it: sent again after something else was recorded
        // (the back button, a second click), it is refused, not recorded twice.
        form["head"] = head
        model["form"] = form
        model["heading"] = heading
        return page("record_page", model, title: "Record on \(number)", viewer: viewer, nav: "incidents", status: state?.status ?? .ok)
    }

    /// An incident's page, as at the start of the current minute (it says so, and what was
    /// recorded since shows at once): kept
    /// rendered for the viewer's roles until the incident gets a new record or the minute
    /// moves on.
    func incidentPage(_ number: String, _ viewer: Viewer, flash: String?) async throws -> Response {
        let head = try api.found(number) { try api.register.head(of: number).hash }
        let now = api.clock()
        let minute = now - ((now % 60_000) + 60_000) % 60_000
        let key = PageCache.Key(number: number, head: head, variant: viewer.user.roles.sorted(), period: minute)
        let (entry, kept) = try await incidentPages.answer(key) {
            let (body, school) = try incidentBody(number, viewer, minute: minute, now: now)
            return (PageCache.Entry(body: body, school: school), true)
        }
        // Whether this viewer may see a kept page is asked every time.
        if kept, !viewer.user.sees(school: entry.school) { throw API.notFound(number) }
        return page(body: entry.body, title: "Incident \(number)", viewer: viewer, nav: "incidents", flash: flash)
    }

    /// The page's body as at the start of `minute`, or as at the last thing recorded when
    /// that was later in the minute (what someone has just recorded shows at once).
    func incidentBody(_ number: String, _ viewer: Viewer, minute: Instant, now: Instant) throws -> (body: String, school: String?) {
        // Read as `next` reads it; the hash chains are checked by the audit page, which
        // walks the register (too much for every look at an incident).
        let (stored, policy) = try api.visibleIncident(number, viewer.user)
        let file = stored.file
        let at = max(minute, file.events.lazy.map(\.at).filter { $0 <= now }.max() ?? minute)
        let evaluation = Engine(policy: policy).evaluate(file, at: at)
        let reports = EngineReports(evaluation: evaluation, file: file)
        let mine = viewer.roles(in: policy)
        func isMine(_ duty: Int) -> Bool { policy.duties[duty].roles.contains { r in mine.contains { policy.role($0, actsAs: r) } } }

        var myDuties: [[String: Any]] = [], others: [[String: Any]] = []
        let every = reports.nextDuties(role: nil, all: true)
        for status in every where status.state != .notApplicable {
            let duty = policy.duties[status.duty]
            let forMe = isMine(status.duty)
            // A button per action the duty takes that one of the viewer's roles may take,
            // each to its form.
            let buttons: [[String: Any]] = forMe && status.state.isOpen
                ? duty.actions.filter { mayTake($0, policy, viewer) }.map { a in
                    ["title": policy.actions[a].title, "href": "/incidents/\(number)/record?duty=\(duty.id)&action=\(policy.actions[a].id)"]
                } : []
            let waiting = evaluation.waitingFor(status).map { policy.duties[$0].title }
            let model: [String: Any] = [
                "key": duty.id, "title": duty.title, "state": Self.stateWords(status.state), "state_class": status.state.rawValue,
                "role": duty.roles.map { policy.roles[$0].title }.joined(separator: " or "), "clause": duty.provenance.citation(in: policy.id),
                "when": opt(Self.when(status, evaluation)), "waiting": waiting.isEmpty ? [] : [waiting.joined(separator: "; ")],
                "must": status.state.isOpen ? opt(duty.must) : [], "buttons": buttons,
            ]
            if forMe { myDuties.append(model) } else { others.append(model) }
        }

        var questions: [[String: Any]] = []
        for q in evaluation.questions {
            let fact = policy.facts[q.fact]
            let (who, buttons) = answering(q.fact, policy, viewer, number: number)
            let decides = q.duties.map { policy.duties[$0].title }
            questions.append([
                "fact": fact.id, "text": fact.question.isEmpty ? fact.title : fact.question, "clause": fact.provenance.citation(in: policy.id),
                "decides": decides.isEmpty ? [] : [decides.joined(separator: "; ")], "who": who, "buttons": buttons,
            ])
        }

        let anonymity = ReporterAnonymity(policy: policy, file: file)
        let shown = anonymity.redact(file)
        let events: [[String: Any]] = shown.events.map { e in
            var details: [String] = e.facts.map { "\(policy.facts[$0.slot].title): \(Self.display($0.value, policy.facts[$0.slot].type, policy))" }
            if let d = e.decision, let slot = policy.actions[e.action].decision?.slot {
                details.append("Decided: \(Self.display(d, policy.slotType(slot), policy))")
            }
            if let r = e.reason { details.append("Reason: \(r)") }
            if let n = e.note { details.append("Note: \(n)") }
            return ["at": policy.clock.describe(e.at), "recorded": opt(e.recordedAt.map { policy.clock.describe($0) }),
                    "action": policy.actions[e.action].title, "role": policy.roles[e.role].title,
                    "actor": e.actor ?? (anonymity.withholds(e) ? "(withheld)" : "—"), "details": details]
        }

        let audit = Self.auditModel(Engine(policy: policy).audit(file, at: at))
        let closed = evaluation.closedAt
        let open = every.filter(\.state.isOpen)
        let overdue = open.count { $0.state == .overdue }, due = open.count { $0.state == .due }
        var summary = closed != nil ? "Closed." : "\(overdue) overdue, \(due) due"
        if closed == nil { summary += ", \(evaluation.questions.count) open question\(evaluation.questions.count == 1 ? "" : "s")." }
        let model: [String: Any] = [
            "number": number, "school": opt(stored.school), "policy_id": policy.id, "policy_title": policy.title,
            "organisation": policy.organisation, "sha": String(stored.policySHA256.prefix(12)), "opened": policy.clock.describe(stored.openedAt),
            "state": closed == nil ? "Open" : "Closed", "state_class": closed == nil ? "open" : "closed", "now": policy.clock.describe(at),
            "summary": summary, "anonymous": anonymity.isActive,
            "my_roles": mine.isEmpty ? "you have no role in this policy" : mine.map { policy.roles[$0].title }.joined(separator: ", "),
            "mine": myDuties, "others": others, "questions": questions, "events": events, "has_events": !events.isEmpty, "audit": audit,
        ]
        return (library.render(model, withTemplate: "incident") ?? "", stored.school)
    }

    /// A derived value's title (or a fact's), for a decision's field.
    static func slotTitle(_ policy: Policy, _ slot: Int) -> String {
        if slot < policy.facts.count { return policy.facts[slot].title }
        if slot < policy.facts.count + policy.values.count { return policy.values[slot - policy.facts.count].title }
        return policy.slotID(slot)
    }

    static let seeFields = "See the fields marked below."

    /// An audit's verdict in words, with its findings.
    static func auditModel(_ report: AuditReport) -> [String: Any] {
        let (verdictClass, meaning): (String, String) = switch report.verdict {
        case .compliant: ("good", "nothing owed is outstanding and nothing was done wrongly")
        case .compliantSoFar: ("good", "duties are still open, none is past its deadline, and nothing was done wrongly")
        case .notCompliant: ("bad", "something owed is late or missing, or something was done wrongly")
        case .undetermined: ("unsure", "whether something is late or missing depends on a question nobody has answered")
        }
        return [
            "verdict": report.verdict.rawValue.replacingOccurrences(of: "_", with: " ").capitalisedFirst, "verdict_class": verdictClass,
            "verdict_meaning": meaning, "has_findings": !report.findings.isEmpty,
            "findings": report.findings.map {
                ["kind": $0.kind.rawValue.replacingOccurrences(of: "_", with: " "), "severity": $0.severity.rawValue, "message": $0.message,
                 "clause": opt($0.clause)] as [String: Any]
            },
        ]
    }

    /// The audit with the register's hash chains checked first, as `rulebook audit INC`:
    /// records that do not check out get no verdict.
    func auditPage(_ number: String, _ viewer: Viewer) throws -> Response {
        let (stored, _) = try api.visibleIncident(number, viewer.user)
        let (verified, policy) = try api.register.verifiedIncident(number)
        let check = verified.verification
        var model: [String: Any] = [
            "number": number, "policy_title": policy.title, "now": policy.clock.describe(api.clock()), "intact": check.isIntact,
            "problems": check.problems, "events": check.events, "head_records": String(check.headRecords), "head_hash": check.headHash,
            "school": opt(stored.school),
        ]
        model["audit"] = check.isIntact ? Self.auditModel(Engine(policy: policy).audit(verified.file, at: api.clock())) : false
        return page("audit", model, title: "Audit of \(number)", viewer: viewer, nav: "incidents")
    }

    static func display(_ value: Value, _ type: ValueType, _ policy: Policy) -> String {
        switch (value, type) {
        case (.bool(let b), _): return b ? "yes" : "no"
        case (.option(let i), .option(let d)) where i < d.options.count: return d.options[i].title
        case (.options(let mask), .options(let d)):
            let titles = d.options.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { d.options[$0].title }
            return titles.isEmpty ? "none" : titles.joined(separator: ", ")
        case (.time(let t), _): return policy.clock.describe(t)
        case (.text(let s), _): return s
        default: return value.display(type)
        }
    }

    // MARK: Recording

    func record(_ request: Request, _ number: String, _ viewer: Viewer) async throws -> Response {
        let form = try await form(request, viewer)
        let policy = try api.register.pinnedPolicy(try api.checkVisible(number, viewer.user).policySHA256)
        guard let actionID = form["action"], let role = form["by"] else {
            throw APIError(.badRequest, "the form did not say what to record")
        }
        var state = FormState(key: "record", form: form)
        var nodes = FormNodes()
        var pairs: [Node.Pair] = []
        let at: Instant
        if let text = form["at"] {
            if let local = FormNodes.localTime(text, clock: policy.clock) {
                at = local
            } else {
                state.add("'\(text)' is not a date and time", field: "at")
                at = api.clock()
            }
        } else {
            at = api.clock()
        }
        pairs.append(FormNodes.pair("at", FormNodes.string(Timestamp.format(at), nodes.span("at"))))
        pairs.append(FormNodes.pair("action", FormNodes.string(actionID, nodes.span("action"))))
        pairs.append(FormNodes.pair("by", FormNodes.string(role, nodes.span("by"))))
        pairs.append(FormNodes.pair("actor", FormNodes.string(viewer.user.name, nodes.span("actor"))))
        if let reason = form["reason"] { pairs.append(FormNodes.pair("reason", FormNodes.string(reason, nodes.span("reason")))) }
        if let note = form["note"] { pairs.append(FormNodes.pair("note", FormNodes.string(note, nodes.span("note")))) }
        if let value = form["value"] {
            let read = YAMLReader.read("v: " + value, file: "value")
            if let node = read.root?["v"] {
                pairs.append(FormNodes.pair("value", Node(node.content, span: nodes.span("value"))))
            } else {
                state.add("'\(value)' is not a value", field: "value")
            }
        }
        var facts: [Node.Pair] = []
        for name in form.fields.keys.sorted() where name.hasPrefix("fact.") {
            let id = String(name.dropFirst("fact.".count))
            guard let slot = policy.facts.firstIndex(where: { $0.id == id }) else {
                state.add("the policy has no fact '\(id)'", field: nil)
                continue
            }
            do {
                if let node = try nodes.fact(slot, of: policy, from: form, name: name) { facts.append(FormNodes.pair(id, node)) }
            } catch {
                state.add(error.message, field: error.field)
            }
        }
        if !facts.isEmpty { pairs.append(FormNodes.pair("facts", Node(.mapping(facts), span: nodes.span("facts")))) }
        if state.errors.isEmpty && state.general.isEmpty {
            let event = Node(.mapping(pairs), span: FormNodes.whole)
            do {
                let user = viewer.user
                _ = try await api.appends.record(Register.GroupedRecord(number: number, event: event, expectedHead: form["head"]) { policy, event in
                    let role = policy.roles[event.role].id
                    guard user.roles.contains(role) else {
                        throw APIError(.forbidden, "you do not act as the \(policy.roles[event.role].title); nothing was recorded")
                    }
                    // What someone does now is theirs to do: an action the policy gives to
                    // other roles is refused here (a backfilled trail may still hold one,
                    // which the audit reports).
                    if let allowed = policy.actions[event.action].roles, !allowed.contains(where: { policy.role(event.role, actsAs: $0) }) {
                        throw APIError(.unprocessableContent, "the policy gives '\(policy.actions[event.action].title)' to the "
                                       + allowed.map { policy.roles[$0].title }.joined(separator: " or ") + ", not to the \(policy.roles[event.role].title)")
                    }
                })
                return redirect("/incidents/\(number)?flash=recorded" + (form["duty"].map { "#duty-" + $0 } ?? ""))
            } catch let error as RegisterError where error.status == .conflict {
                state.add("""
                    Nothing was recorded: the incident changed since this form was shown (someone recorded something, or this \
                    form was sent already). Look at the incident's page before sending it again.
                    """, field: nil)
                state.status = .conflict
            } catch let error as RegisterError {
                if error.diagnostics.isEmpty {
                    state.add(error.message.capitalisedFirst + (error.hint.map { " (\($0))" } ?? ""), field: nil)
                }
                for d in error.diagnostics {
                    // Beside the field it is about, when that is one the person filled in.
                    var field = d.code == "missing-reason" ? "reason" : nodes.field(of: d)
                    if let f = field, !["reason", "note", "at", "value"].contains(f), !f.hasPrefix("fact.") { field = nil }
                    state.add(d.message.capitalisedFirst, field: field)
                }
                state.status = error.status == .notFound ? .notFound : .unprocessableContent
            } catch let error as APIError {
                state.add(error.report.message.capitalisedFirst, field: nil)
                state.status = error.status
            }
        } else {
            state.status = .unprocessableContent
        }
        // Shown again with the values given, each reason beside its field.
        if state.general.isEmpty { state.general.append(Self.seeFields) }
        do {
            return try recordPage(number, viewer, duty: form["duty"], question: form["question"], action: actionID, state: state)
        } catch let error as APIError where error.status == .notFound || error.status == .forbidden {
            // No form of the viewer's to show it again in (a request made by hand): the
            // refusal on its own.
            let reasons = state.general.filter { $0 != Self.seeFields } + state.errors.values.flatMap { $0 }
            throw APIError(state.status, "nothing was recorded: " + reasons.joined(separator: "; "))
        }
    }
}
