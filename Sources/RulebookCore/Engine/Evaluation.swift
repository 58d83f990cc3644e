/// The state of one duty at the evaluation time.
public enum DutyState: String, Sendable, CaseIterable {
    /// Its condition is false.
    case notApplicable = "not_applicable"
    /// Its condition depends on a fact nobody has answered.
    case unknown
    /// A prerequisite duty is not done, or its clock has not started (the action it
    /// counts from has not happened).
    case waiting
    /// Applies, not done, deadline ahead (or none).
    case due
    /// Applies, not done, deadline passed.
    case overdue
    /// Done by the deadline (or with none).
    case done
    /// Done after the deadline.
    case doneLate = "done_late"

    /// True for states in which nothing more is owed.
    public var isSettled: Bool { self == .done || self == .doneLate || self == .notApplicable }

    /// True for states that need someone to act now (or decide).
    public var isOpen: Bool { self == .due || self == .overdue || self == .unknown || self == .waiting }
}

/// One duty's evaluation.
public struct DutyStatus: Sendable {
    /// The duty (index into the policy's duties).
    public var duty: Int
    public var state: DutyState
    /// When the clock started, if it has and is known.
    public var clockStart: Instant?
    /// The deadline, when the clock has started and the duty has one.
    public var deadline: Instant?
    /// When it was done (first discharging action), if it was.
    public var doneAt: Instant?
    /// The event that discharged it.
    public var doneBy: Int?
    /// True when it waits for a prerequisite duty that is not settled (the duties are
    /// listed by ``Evaluation/waitingFor(_:)``). A status holds plain values only, so
    /// evaluations copy and sort cheaply.
    public var waitsForPrerequisite: Bool
    /// The earliest it may be done (`not_before`), when its clock has started.
    public var notBefore: Instant? = nil
    /// Its soft target (`target`), when its clock has started.
    public var target: Instant? = nil
    /// True when it has a deadline (or an earliest time) that counts from a fact nobody
    /// has answered: it is owed (or may be) but no deadline can be computed yet.
    public var clockUnknown: Bool = false
    /// The first event that took one of its actions too early (before `notBefore`).
    public var earlyBy: Int? = nil
    /// True when its deadline counts working days past the end of the policy's calendar,
    /// so it cannot be computed: an error the commands report (``Evaluation/calendarProblem``).
    public var beyondCalendar: Bool = false
}

/// What is known about an incident at one moment: facts and values, which actions have
/// occurred and when, and every duty's state.
public struct Evaluation: Sendable {
    /// The policy applied.
    public let policy: Policy
    /// The moment of the evaluation.
    public let at: Instant
    /// Facts (folded with the trail up to `at`) and derived values.
    public var values: SlotValues
    /// First occurrence of each action up to `at`.
    public var firstOccurrence: [Instant?]
    /// How many events up to `at` were taken into account.
    public var eventCount: Int
    /// When the incident was closed, if it was by `at`.
    public var closedAt: Instant?
    /// Every duty's status, in the policy's duty order.
    public var duties: [DutyStatus]
    /// The incident's earliest known moment (its earliest datetime fact or event), when
    /// the evaluation is before it: nothing is due yet.
    public var startsAfter: Instant? = nil
}

/// Applies a policy to incidents. One engine per policy; it holds no incident state and
/// may be shared between threads.
public struct Engine: Sendable {
    /// The policy applied.
    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Facts at `at`: the case's facts folded with every event up to `at`, then the
    /// values derived from them.
    public func state(of file: CaseFile, at: Instant) -> (SlotValues, [Instant?], Int, Instant?) {
        state(of: file, at: at, honouringEveryone: false)
    }

    /// The same, but with `honouringEveryone` facts set by roles the policy does not let
    /// establish them take effect too: what they would have changed.
    func state(of file: CaseFile, at: Instant, honouringEveryone: Bool) -> (SlotValues, [Instant?], Int, Instant?) {
        var values = SlotValues(policy: policy)
        for assignment in file.facts { values.slots[assignment.slot] = assignment.value }
        var first = [Instant?](repeating: nil, count: policy.actions.count)
        var closed: Instant?
        var count = 0
        // Fields are read in place: binding whole events would retain every string in them.
        let events = file.events
        for i in events.indices {
            let eventAt = events[i].at
            guard eventAt <= at else { break }
            count += 1
            if !events[i].facts.isEmpty {
                let role = events[i].role
                for assignment in events[i].facts where honouringEveryone || policy.mayEstablish(role, fact: assignment.slot) {
                    values.slots[assignment.slot] = assignment.value
                }
            }
            let action = events[i].action
            if first[action] == nil {
                first[action] = eventAt
                values.occurred[action] = true
                if closed == nil, policy.actions[action].closes { closed = eventAt }
            }
        }
        for (slot, action) in policy.program.timeOfSlots {
            values.slots[slot] = first[action].map { .time($0) } ?? .unknown
        }
        policy.deriveValues(&values)
        return (values, first, count, closed)
    }

    /// Evaluates the case at `at`: values and every duty's state and deadline.
    public func evaluate(_ file: CaseFile, at: Instant) -> Evaluation {
        evaluate(file, at: at, honouringEveryone: false)
    }

    func evaluate(_ file: CaseFile, at: Instant, honouringEveryone: Bool) -> Evaluation {
        // Constants, not variables: the duty loop below reads them once per duty, and a
        // variable captured there would be copied (its arrays retained) at every read.
        let (derived, first, count, closed) = state(of: file, at: at, honouringEveryone: honouringEveryone)
        let program = policy.program
        var statuses: [DutyStatus] = []
        let values: SlotValues
        if let schedule = program.schedule {
            var scheduled = derived
            // Some value or condition asks about a duty: duties and those values in turn.
            statuses = program.plans.indices.map {
                DutyStatus(duty: $0, state: .unknown, clockStart: nil, deadline: nil, doneAt: nil, doneBy: nil, waitsForPrerequisite: false)
            }
            for step in schedule {
                switch step {
                case .value(let j):
                    program.derive(valueAt: Int(j), &scheduled)
                case .duty(let d):
                    let index = Int(d)
                    let status = status(of: index, program: program, condition: program.dutyCondition(index, scheduled),
                                        values: scheduled, first: first, file: file, eventCount: count, statuses: statuses, at: at)
                    statuses[index] = status
                    for (slot, kind) in program.dutyProbeSlots[index] { scheduled.slots[slot] = status.answer(kind, at: at) }
                }
            }
            values = scheduled
        } else {
            statuses.reserveCapacity(program.plans.count)
            program.withMachine(derived) { machine in
                for index in program.plans.indices {
                    statuses.append(status(of: index, program: program, condition: machine.dutyCondition(index), values: derived,
                                           first: first, file: file, eventCount: count, statuses: statuses, at: at))
                }
            }
            values = derived
        }
        var evaluation = Evaluation(policy: policy, at: at, values: values, firstOccurrence: first, eventCount: count,
                                    closedAt: closed, duties: statuses)
        // Before the incident's earliest known moment nothing is owed yet.
        if let start = earliestMoment(file, values), at < start {
            evaluation.startsAfter = start
            for i in evaluation.duties.indices where !evaluation.duties[i].state.isSettled {
                evaluation.duties[i].state = .waiting
            }
        }
        return evaluation
    }

    /// The earliest moment the incident records: its earliest datetime fact (as known at
    /// the evaluation) or its first event.
    private func earliestMoment(_ file: CaseFile, _ values: SlotValues) -> Instant? {
        var earliest = file.events.first?.at
        for slot in policy.facts.indices {
            if case .time(let t) = values.slots[slot], earliest.map({ t < $0 }) ?? true { earliest = t }
        }
        return earliest
    }

    /// When a clock started: nil while a fact it counts from is unanswered or the action
    /// or duty it waits for has not happened. `earliest_of` takes the earliest known start;
    /// `latest_of` waits for every one.
    func start(of clock: Clock, values: SlotValues, first: [Instant?], statuses: [DutyStatus]) -> Instant? {
        switch clock {
        case .fact(let slot):
            if case .time(let t) = values.slots[slot] { return t }
            return nil
        case .action(let a):
            return first[a]
        case .duty(let d):
            return statuses[d].doneAt
        case .earliest(let list):
            return list.compactMap { start(of: $0, values: values, first: first, statuses: statuses) }.min()
        case .latest(let list):
            let starts = list.compactMap { start(of: $0, values: values, first: first, statuses: statuses) }
            return starts.count == list.count ? starts.max() : nil
        }
    }

    /// One duty's status; `statuses` holds the duties before it (its prerequisites come
    /// earlier in the policy's order).
    func status(
        of index: Int, program: Program, condition applies: Value, values: SlotValues, first: [Instant?], file: CaseFile, eventCount: Int,
        statuses: [DutyStatus], at: Instant
    ) -> DutyStatus {
        let plan = program.plans[index]
        var status = DutyStatus(duty: index, state: .due, clockStart: nil, deadline: nil, doneAt: nil, doneBy: nil,
                                waitsForPrerequisite: false)
        // When the clock started (nil while its fact is unanswered or its trigger has not
        // happened).
        switch plan.clock {
        case .fact(let slot)?:
            if case .time(let t) = values.slots[slot] { status.clockStart = t }
        case .action(let a)?:
            status.clockStart = first[a]
        case .duty(let d)?:
            status.clockStart = statuses[d].doneAt
        case .compound(let c)?:
            status.clockStart = start(of: program.compoundClocks[c], values: values, first: first, statuses: statuses)
        case nil:
            break
        }
        // Timing beyond one deadline is rare: read from the duty only when it has some.
        let notBefore = plan.hasTiming ? policy.duties[index].notBefore : nil
        if let start = status.clockStart {
            if let rule = plan.deadline {
                status.deadline = rule.deadline(from: start, in: policy.clock)
                if status.deadline == nil { status.beyondCalendar = true }
            }
            if plan.hasTiming {
                if let rule = policy.duties[index].target {
                    status.target = rule.deadline(from: start, in: policy.clock)
                    if status.target == nil { status.beyondCalendar = true }
                }
                if let earliest = notBefore { status.notBefore = policy.clock.add(earliest, to: start) }
            }
        } else if plan.clockReadsFact, plan.deadline != nil || notBefore != nil {
            // A deadline that counts from an unanswered fact cannot be computed.
            status.clockUnknown = true
        }
        // When it was done: the first of its actions taken by one of its roles (or a
        // stand-in), after the clock's trigger when the clock counts from an action or duty,
        // and not before its earliest time.
        var anyOccurred = false
        for i in plan.actions where first[program.dutyActions[i]] != nil {
            anyOccurred = true
            break
        }
        if anyOccurred {
            var floor: Instant?
            if plan.clockReadsEvent {
                // Only actions after the moment it counts from count; while that moment
                // has not come, none does (the property tests found a duty "done" by an
                // action taken before its trigger, undone when the trigger came).
                floor = status.clockStart ?? .max
            }
            var dischargers = plan.dischargers
            if policy.hasConditionalStandIns {
                for standIn in policy.dutyConditionalStandIns[index] where standIn.role < 64 {
                    // A stand-in whose condition is known to be false does not discharge it
                    // (unless it is one of the duty's own roles anyway).
                    if standIn.condition.expr.evaluate(values) == .bool(false),
                       !policy.duties[index].roles.contains(where: { policy.role(standIn.role, actsAs: $0) }) {
                        dischargers &= ~(1 << UInt64(standIn.role))
                    }
                }
            }
            if let earliest = status.notBefore {
                let early = firstDischarge(plan, dischargers: dischargers, program: program, after: floor, file: file,
                                           eventCount: eventCount)
                if let at = early.0, at < earliest { status.earlyBy = early.1 }
                floor = max(floor ?? earliest, earliest)
            } else if notBefore != nil {
                // Its earliest time cannot be known yet: nothing done so far can count.
                floor = .max
            }
            (status.doneAt, status.doneBy) = firstDischarge(plan, dischargers: dischargers, program: program, after: floor,
                                                            file: file, eventCount: eventCount)
        }
        var condition = applies
        // A duty counted from another duty applies only if that one does.
        if case .duty(let d)? = plan.clock, statuses[d].state == .notApplicable { condition = .bool(false) }
        switch condition {
        case .bool(false):
            status.state = .notApplicable
            return status
        case .bool(true):
            break
        default:
            // Undecided applicability: report it as done if it was done anyway.
            if let done = status.doneAt {
                status.state = status.deadline.map { done > $0 } == true ? .doneLate : .done
            } else {
                status.state = .unknown
            }
            return status
        }
        if let done = status.doneAt {
            status.state = status.deadline.map { done > $0 } == true ? .doneLate : .done
            return status
        }
        if let deadline = status.deadline, at > deadline {
            status.state = .overdue
            return status
        }
        for i in plan.prerequisites where !statuses[program.dutyPrerequisites[i]].state.isSettled {
            status.waitsForPrerequisite = true
            break
        }
        if status.waitsForPrerequisite {
            status.state = .waiting
            return status
        }
        if plan.clock != nil, !status.clockUnknown {
            // Not started: its trigger has not happened, or it starts later than now.
            if status.clockStart.map({ $0 > at }) ?? plan.clockReadsEvent {
                status.state = .waiting
                return status
            }
        }
        if let earliest = status.notBefore, at < earliest {
            status.state = .waiting
            return status
        }
        status.state = .due
        return status
    }

    /// The first event (up to the evaluation) that discharges the duty: one of its
    /// actions, by one of `dischargers` (its roles, their members and stand-ins), at or
    /// after `floor`.
    private func firstDischarge(
        _ plan: Program.DutyPlan, dischargers: UInt64, program: Program, after floor: Instant?, file: CaseFile, eventCount: Int
    ) -> (Instant?, Int?) {
        let events = file.events
        for i in 0..<eventCount {
            let role = events[i].role
            guard role < 64, dischargers & (1 << UInt64(role)) != 0 else { continue }
            let eventAt = events[i].at
            if let floor, eventAt < floor { continue }
            let action = events[i].action
            let discharges = plan.smallActions
                ? action < 64 && plan.actionMask & (1 << UInt64(action)) != 0
                : plan.actions.contains { program.dutyActions[$0] == action }
            if discharges, !policy.hasEstablishingActions || policy.counts(events[i]) { return (eventAt, i) }
        }
        return (nil, nil)
    }

    /// The index of the event that discharged a done duty.
    public func dischargingEvent(_ status: DutyStatus, in file: CaseFile) -> Int? {
        status.doneBy
    }
}

extension DutyStatus {
    /// What `done(duty)`, `late(duty)` and `deadline(duty)` say about this duty at `at`.
    /// `late` is true once it was done after its deadline or the deadline has passed
    /// undone, false while it is on time or does not apply, and unknown while its deadline
    /// cannot be computed or, past the deadline, whether it applies is undecided.
    func answer(_ kind: ProbeKind, at: Instant) -> Value {
        switch kind {
        case .timeOf: return .unknown
        case .done: return .bool(doneAt != nil)
        case .deadline: return deadline.map { .time($0) } ?? .unknown
        case .late:
            if state == .notApplicable { return .bool(false) }
            guard let deadline else {
                return clockUnknown || beyondCalendar ? .unknown : .bool(false)
            }
            if let done = doneAt { return .bool(done > deadline) }
            guard at > deadline else { return .bool(false) }
            return state == .unknown ? .unknown : .bool(true)
        }
    }
}

extension Evaluation {
    /// The prerequisite duties a waiting duty waits for: those not yet settled.
    public func waitingFor(_ status: DutyStatus) -> [Int] {
        guard status.waitsForPrerequisite else { return [] }
        let program = policy.program
        return program.plans[status.duty].prerequisites.map { program.dutyPrerequisites[$0] }
            .filter { !duties[$0].state.isSettled }
    }

    /// The earliest deadline among duties due or overdue, with its duty.
    public var nextDeadline: (deadline: Instant, duty: Int)? {
        var best: (Instant, Int)?
        for s in duties where s.state == .due || s.state == .overdue {
            if let d = s.deadline, best == nil || d < best!.0 { best = (d, s.duty) }
        }
        return best
    }

    /// The duties owed (or that may be) whose deadline cannot be computed yet: the fact
    /// their clock counts from is unanswered.
    public var clockUnknownDuties: [Int] {
        duties.filter { $0.clockUnknown && ($0.state == .due || $0.state == .unknown || $0.state == .waiting) }.map(\.duty)
    }

    /// What to tell the user when a working-day deadline runs past the end of the
    /// policy's calendar: the calendar, the day it would need and the duty; nil when every
    /// deadline could be computed.
    public var calendarProblem: String? {
        guard let status = duties.first(where: { $0.beyondCalendar }), let start = status.clockStart else { return nil }
        let duty = policy.duties[status.duty]
        let rule = duty.deadline?.countsWorkingDays == true ? duty.deadline : duty.target
        var needed: Int?
        switch rule {
        case .workingDays(let n)?: needed = policy.clock.add(workingDays: n, to: start).neededDay
        case .endOfNextWorkingDay?: needed = policy.clock.endOfNextWorkingDay(after: start).neededDay
        default: break
        }
        guard let calendar = policy.clock.calendar else {
            return "duty '\(duty.id)' counts working days, but the policy names no calendar"
        }
        let day = needed.map { Timestamp.formatDate($0) } ?? "a day it does not cover"
        return "the deadline of duty '\(duty.id)' (\(rule?.description ?? "")) from \(policy.clock.describe(start)) needs "
            + "\(day), which the calendar '\(calendar.id)' does not cover (it covers \(Timestamp.formatDate(calendar.firstDay)) "
            + "to \(Timestamp.formatDate(calendar.lastDay))); extend \(calendar.file) with that year's holidays"
    }

    /// How many duties are overdue.
    public var overdueCount: Int { duties.count { $0.state == .overdue } }
}
