import Foundation
import RulebookCore

extension Register {
    /// Counts every incident (filtered by policy id, school and `include`) into `report`,
    /// each audited at the report's time under its pinned policy, in one read of the
    /// register; one incident is held at a time.
    ///
    /// (Reading on one thread while auditing on others was tried: on two cores it was no
    /// faster, the threads contending for the reference counts of the policy they share.)
    public func periodicReport(
        into report: inout PeriodicReport, policy: String? = nil, school: String? = nil,
        include: (Summary) -> Bool = { _ in true }, progress: (Int) -> Void = { _ in }
    ) throws {
        let at = report.at
        var read = 0
        try cases(policy: policy, school: school) { summary, pinned, file in
            guard include(summary) else { return }
            report.add(number: summary.number, school: summary.school, openedAt: summary.openedAt,
                       audit: Engine(policy: pinned).audit(file, at: at))
            read += 1
            if read % 1024 == 0 { progress(read) }
        }
    }
}
