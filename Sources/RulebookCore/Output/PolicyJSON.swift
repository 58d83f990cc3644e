/// A compiled policy as JSON (`rulebook show --format json`): what it says after
/// `extends` is applied and every reference resolved, for tools (an editor's outline, a
/// diff between two schools' variants). Ids are the policy's own; expressions are given
/// as written.
public struct PolicyJSON: Sendable {
    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    public func render(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            w.field("id", string: policy.id)
            w.field("title", string: policy.title)
            w.field("organisation", string: policy.organisation)
            w.field("version", string: policy.control.version)
            w.field("source", string: policy.source)
            w.field("time_zone", string: policy.clock.identifier)
            w.field("calendar", string: policy.clock.calendar?.id)
            w.field("lineage") { $0.array(strings: policy.lineage.map(\.id)) }
            w.field("roles") { w in
                w.array { w in
                    for role in policy.roles {
                        w.object { w in
                            w.field("id", string: role.id)
                            w.field("title", string: role.title)
                            w.field("holder", string: role.holder)
                            w.field("contact", string: role.contact)
                            w.field("includes") { $0.array(strings: role.includes.map { policy.roles[$0].id }) }
                            w.field("stand_ins") { w in
                                w.array { w in
                                    for s in role.standIns {
                                        w.object { w in
                                            w.field("role", string: policy.roles[s].id)
                                            w.field("when", string: role.standInConditions.first { $0.role == s }?.condition.source)
                                        }
                                    }
                                }
                            }
                            provenance(role.provenance, &w)
                        }
                    }
                }
            }
            w.field("facts") { w in
                w.array { w in
                    for fact in policy.facts {
                        w.object { w in
                            w.field("id", string: fact.id)
                            w.field("title", string: fact.title)
                            w.field("type", string: fact.type.keyword)
                            if case .option(let d) = fact.type { w.field("options") { $0.array(strings: d.ids) } }
                            if case .options(let d) = fact.type { w.field("options") { $0.array(strings: d.ids) } }
                            w.field("question", string: fact.question)
                            if let setBy = fact.setBy { w.field("set_by") { $0.array(strings: setBy.map { policy.roles[$0].id }) } }
                            provenance(fact.provenance, &w)
                        }
                    }
                }
            }
            w.field("values") { w in
                w.array { w in
                    for value in policy.values {
                        w.object { w in
                            w.field("id", string: value.id)
                            w.field("title", string: value.title)
                            w.field("type", string: value.type.keyword)
                            switch value.rule {
                            case .expression(let e):
                                w.field("rule", string: "expr")
                                w.field("expr", string: e.source)
                            case .table(let input, _):
                                w.field("rule", string: "table")
                                w.field("input", string: policy.slotID(input))
                            case .cases:
                                w.field("rule", string: "cases")
                            case .grid(let grid):
                                w.field("rule", string: "grid")
                                w.field("grid") { w in
                                    w.object { w in
                                        for (key, axis) in [("rows", grid.rows), ("columns", grid.columns)] {
                                            var domain: EnumDomain?
                                            if case .option(let d) = policy.slotType(axis.input) { domain = d }
                                            w.field(key) { w in
                                                w.object { w in
                                                    w.field("input", string: policy.slotID(axis.input))
                                                    w.field("bands") {
                                                        $0.array(strings: axis.bands.map { band in
                                                            let range = DerivedValue.Grid.describe(band, domain: domain)
                                                            return band.label.map { $0 == range ? range : "\($0) (\(range))" } ?? range
                                                        })
                                                    }
                                                }
                                            }
                                        }
                                        let width = grid.columns.bands.count
                                        w.field("cells") { w in
                                            w.array { w in
                                                for r in grid.rows.bands.indices {
                                                    w.array(strings: (0..<width).map { grid.cells[r * width + $0].display(value.type) })
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            provenance(value.provenance, &w)
                        }
                    }
                }
            }
            w.field("actions") { w in
                w.array { w in
                    for action in policy.actions {
                        w.object { w in
                            w.field("id", string: action.id)
                            w.field("title", string: action.title)
                            if let roles = action.roles {
                                w.field("roles") { $0.array(strings: roles.map { policy.roles[$0].id }) }
                            } else {
                                w.field("roles", string: "any")
                            }
                            w.field("reason_required", bool: action.reasonRequired)
                            w.field("closes", bool: action.closes)
                            provenance(action.provenance, &w)
                        }
                    }
                }
            }
            w.field("duties") { w in
                w.array { w in
                    for duty in policy.duties {
                        w.object { w in
                            w.field("id", string: duty.id)
                            w.field("title", string: duty.title)
                            w.field("roles") { $0.array(strings: duty.roles.map { policy.roles[$0].id }) }
                            w.field("actions") { $0.array(strings: duty.actions.map { policy.actions[$0].id }) }
                            w.field("when", string: duty.condition?.source)
                            w.field("from", string: duty.clock.map(describe))
                            w.field("within", string: duty.deadline?.description)
                            w.field("target", string: duty.target?.description)
                            w.field("not_before", string: duty.notBefore?.description)
                            w.field("reason_when_late", bool: duty.reasonWhenLate)
                            w.field("after") { $0.array(strings: duty.prerequisites.map { policy.duties[$0].id }) }
                            w.field("must", string: duty.must)
                            provenance(duty.provenance, &w)
                        }
                    }
                }
            }
            w.field("prohibitions") { w in
                w.array { w in
                    for p in policy.prohibitions {
                        w.object { w in
                            w.field("id", string: p.id)
                            w.field("roles") { $0.array(strings: p.roles.map { policy.roles[$0].id }) }
                            w.field("actions") { $0.array(strings: p.actions.map { policy.actions[$0].id }) }
                            w.field("text", string: p.text)
                            provenance(p.provenance, &w)
                        }
                    }
                }
            }
            w.field("constraints") { w in
                w.array { w in
                    for c in policy.constraints {
                        w.object { w in
                            w.field("id", string: c.id)
                            w.field("rule", string: c.rule.source)
                            w.field("message", string: c.message)
                            provenance(c.provenance, &w)
                        }
                    }
                }
            }
            if let r = policy.report {
                w.field("report") { w in
                    w.object { w in
                        w.field("start", string: r.start?.source)
                        w.field("near_miss", string: r.nearMiss?.source)
                        w.field("by") { $0.array(strings: r.breakdowns.map(\.expression.source)) }
                        w.field("milestones") { w in
                            w.array { w in
                                for m in r.milestones {
                                    w.object { w in
                                        w.field("title", string: m.title)
                                        switch m.target {
                                        case .duty(let d): w.field("duty", string: policy.duties[d].id)
                                        case .action(let a): w.field("action", string: policy.actions[a].id)
                                        }
                                    }
                                }
                            }
                        }
                        provenance(r.provenance, &w)
                    }
                }
            }
        }
        return w.text
    }

    private func provenance(_ p: Provenance?, _ w: inout JSONWriter) {
        w.field("clause", string: p?.citation(in: policy.id))
        w.field("assumption", string: p?.assumption)
    }

    /// `fact discovered_at`, `action report`, `earliest of (fact a, fact b)`.
    private func describe(_ clock: Clock) -> String {
        switch clock {
        case .fact(let s): return "fact " + policy.facts[s].id
        case .action(let a): return "action " + policy.actions[a].id
        case .duty(let d): return "duty " + policy.duties[d].id
        case .earliest(let list): return "earliest of (" + list.map(describe).joined(separator: ", ") + ")"
        case .latest(let list): return "latest of (" + list.map(describe).joined(separator: ", ") + ")"
        }
    }
}
