import Foundation

// Built with `-sanitize=fuzzer,address -DFUZZING` (make fuzz), this is a libFuzzer
// binary: libFuzzer supplies `main` and calls the two entry points below, on the target
// named by $RULEBOOK_FUZZ. Built plainly, it is a tool that replays files through a
// target: `rulebook-fuzz TARGET FILE|DIR...`, exit 1 on the first failure (the tests run
// the committed corpus this way, so every finding stays a regression test).

#if FUZZING
/// libFuzzer's default mutator, for the targets that mutate bytes.
@_silgen_name("LLVMFuzzerMutate")
func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// libFuzzer's driver, run from the executable's own entry point: SwiftPM links an
/// executable target's `main` to `<module>_main`, so that is where libFuzzer starts.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("rulebook_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzTestOneInput)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = FuzzTarget.selected
    _ = Fixtures.shared
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

/// The policy target mutates the YAML's node tree (keys, values, entries) half the time,
/// so the validator sees well-formed policies with wrong parts, not only broken YAML.
@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzCustomMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: CUnsignedInt) -> Int {
    if FuzzTarget.selected == .policy, seed % 2 == 0,
       let mutated = NodeMutator.mutate(UnsafeBufferPointer(start: data, count: size), seed: UInt64(seed)),
       mutated.count <= maxSize {
        mutated.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: mutated.count) }
        return mutated.count
    }
    return LLVMFuzzerMutate(data, size, maxSize)
}
#else
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "make-seeds", arguments.count == 2 {
            Seeds.write(to: arguments[1])
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write("usage: rulebook-fuzz \(names) FILE|DIR...\n".data(using: .utf8)!)
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write("rulebook-fuzz: no file \(path)\n".data(using: .utf8)!)
                exit(2)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                Fixtures.current = file
                Array(data).withUnsafeBufferPointer { target.run($0) }
                count += 1
            }
        }
        print("rulebook-fuzz \(target.rawValue): \(count) inputs, no failure")
    }
}
#endif
