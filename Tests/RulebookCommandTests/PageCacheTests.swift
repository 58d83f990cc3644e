import Foundation
import Synchronization
import Testing

@testable import RulebookServer

/// The server's kept answers, in process: a crowd asking for one key at once gets one
/// rendering, and a rendering that is not kept or fails leaves the others to render their own.
@Suite("Kept answers: one rendering per key at a time")
struct PageCacheTests {
    final class Counter: Sendable {
        let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    static let key = PageCache.Key(number: "INC-1", head: "h", variant: ["next"], period: 0)

    /// Runs `count` requests for `key` at once; returns what each got and how many renderings there were.
    static func crowd(_ cache: PageCache, count: Int, keep: Bool, failFirst: Bool = false) async -> (answers: [String], kept: Int, renderings: Int) {
        let renderings = Counter()
        let results = await withTaskGroup(of: (String, Bool)?.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        let (entry, kept) = try await cache.answer(Self.key) {
                            let n = renderings.next()
                            // Long enough for the whole crowd to arrive while the first renders.
                            try await Task.sleep(for: .milliseconds(50))
                            if failFirst, n == 1 { throw CancellationError() }
                            return (PageCache.Entry(body: "rendering \(n)", school: "s"), keep)
                        }
                        return (entry.body, kept)
                    } catch {
                        return nil
                    }
                }
            }
            var all: [(String, Bool)?] = []
            for await result in group { all.append(result) }
            return all
        }
        let answered = results.compactMap { $0 }
        return (answered.map(\.0), answered.filter(\.1).count, renderings.count.withLock { $0 })
    }

    @Test("thirty-two requests at once for one key: one rendering, the others get it as kept")
    func oneRendering() async {
        let result = await Self.crowd(PageCache(capacity: 8), count: 32, keep: true)
        #expect(result.renderings == 1)
        #expect(result.answers == Array(repeating: "rendering 1", count: 32))
        #expect(result.kept == 31)
    }

    @Test("a rendering that is not kept: the others render their own, at once")
    func notKept() async {
        let result = await Self.crowd(PageCache(capacity: 8), count: 4, keep: false)
        #expect(result.renderings == 4)
        #expect(Set(result.answers) == ["rendering 1", "rendering 2", "rendering 3", "rendering 4"])
        #expect(result.kept == 0)
    }

    @Test("the first rendering fails: it alone gets the error, the others render their own")
    func firstFails() async {
        let cache = PageCache(capacity: 8)
        let result = await Self.crowd(cache, count: 8, keep: true, failFirst: true)
        #expect(result.renderings == 8)
        #expect(Set(result.answers) == Set((2...8).map { "rendering \($0)" }))
        #expect(result.kept == 0)
        // What they rendered is kept for whoever asks next.
        let next = await Self.crowd(cache, count: 2, keep: true)
        #expect(next.renderings == 0 && next.kept == 2)
    }

    @Test("capacity 0 keeps nothing and renders for everyone at once")
    func noCache() async {
        let result = await Self.crowd(PageCache(capacity: 0), count: 4, keep: true)
        #expect(result.renderings == 4)
        #expect(result.kept == 0)
    }
}
