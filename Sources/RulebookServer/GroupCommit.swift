import Foundation
import RulebookCore
import RulebookRegister

/// The server's appends, committed in groups: one writer thread takes every append that
/// arrived while the last commit was syncing to disk and makes them in one transaction
/// (`Register.recordGroup`), so sixteen people recording at once wait for one sync, not
/// sixteen in turn. Each request is answered only after the commit that holds its event
/// returned: an acknowledged event is on disk. Appends are made in arrival order, each as
/// `record` would make it alone (a refused one is undone alone), so the chains stay
/// linear. Request handlers wait without holding one of SwiftNIO's threads.
final class GroupCommit: @unchecked Sendable {
    typealias Appended = (position: Int, hash: String)
    private let register: Register
    private let condition = NSCondition()
    private var pending: [(record: Register.GroupedRecord, reply: CheckedContinuation<Appended, any Error>)] = []
    /// The most appends one transaction takes (a burst larger than this is committed in
    /// several).
    let largestGroup: Int

    init(register: Register, largestGroup: Int = 256) {
        self.register = register
        self.largestGroup = largestGroup
        let thread = Thread { [self] in self.run() }
        thread.name = "rulebook-writer"
        thread.start()
    }

    /// Appends `record` with the next group; returns once that group is committed.
    func record(_ record: Register.GroupedRecord) async throws -> Appended {
        try await withCheckedThrowingContinuation { reply in
            condition.lock()
            pending.append((record, reply))
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let group = Array(pending.prefix(largestGroup))
            pending.removeFirst(group.count)
            condition.unlock()
            do {
                let results = try register.recordGroup(group.map(\.record))
                for (item, result) in zip(group, results) { item.reply.resume(with: result) }
            } catch {
                // The commit itself failed: none of them was recorded.
                for item in group { item.reply.resume(throwing: error) }
            }
        }
    }
}
