// bench-launch RESULT PROGRAM [ARG...]
//
// Runs PROGRAM with this process's standard input, output and error, waits for it, and
// writes "STATUS NANOSECONDS PEAK_RSS_KIB" to RESULT: its exit status (128 + signal when
// killed), its wall-clock time from spawn to exit, and its peak resident memory.
//
// Why a launcher: Linux carries the spawning process's memory high-water mark into a
// child started with posix_spawn (vfork) or fork, so a child's ru_maxrss is never below
// its parent's. A benchmark that generated a million events before spawning `rulebook`
// would report its own memory as rulebook's. This launcher is the smallest Swift
// process there is (no Foundation), so what it reports is the child's own peak.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    let line = Array("bench-launch: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: bench-launch RESULT PROGRAM [ARG...]") }
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments[2...].map { strdup($0) }
cArguments.append(nil)

var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
var pid: pid_t = 0
let rc = posix_spawn(&pid, arguments[2], nil, nil, cArguments, environ)
guard rc == 0 else { fail("cannot run \(arguments[2]): \(String(cString: strerror(rc)))") }
var status: Int32 = 0
var usage = rusage()
while wait4(pid, &status, 0, &usage) < 0 {
    guard errno == EINTR else { fail("waiting for \(arguments[2]) failed: \(String(cString: strerror(errno)))") }
}
var end = timespec()
clock_gettime(CLOCK_MONOTONIC, &end)
let nanoseconds = (Int(end.tv_sec) - Int(start.tv_sec)) * 1_000_000_000 + (Int(end.tv_nsec) - Int(start.tv_nsec))
// WIFEXITED/WEXITSTATUS are macros; decode the status word by hand.
let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)

guard let file = fopen(arguments[1], "w") else { fail("cannot write \(arguments[1]): \(String(cString: strerror(errno)))") }
fputs("\(exitStatus) \(nanoseconds) \(usage.ru_maxrss)\n", file)
guard fclose(file) == 0 else { fail("cannot write \(arguments[1]): \(String(cString: strerror(errno)))") }
