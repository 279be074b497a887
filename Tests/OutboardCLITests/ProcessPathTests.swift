@testable import FileCommands
import Dispatch
import Foundation
@testable import OutboardCLI
import Synchronization
import Testing

/// What the executable's short path relies on: synchronous commands run on the calling thread,
/// the output buffer, reading a file in one piece, and trees kept only by the process's console.
@Suite struct ProcessPathTests {
    @Test func aSynchronousCommandRunsOnTheCallingThreadWithTheSameResultAsRun() async throws {
        let file = try temporaryFile("cal.ics", ExpandCommandTests.calendar)
        let args = ["ics", "expand", file, "--from", "2026-01-05", "--to", "2026-01-20"]
        let console = Console.recording()
        let code = Console.$current.withValue(console) { OutboardCommand.runSynchronously(arguments: args) }
        let viaRun = await outboard(arguments: args)
        #expect(code == 0)
        #expect(console.output == viaRun.out)
        #expect(console.output.split(separator: "\n").count == 6)
        let usage = Console.recording()
        #expect(
            Console.$current.withValue(usage) { OutboardCommand.runSynchronously(arguments: ["ics", "expand"]) } == 2)
        #expect(usage.errorOutput.contains("Missing expected argument"), "\(usage.errorOutput)")
    }

    @Test(arguments: [["sync", "some-id"], ["run"], ["verify", "some-id"]])
    func anAsynchronousCommandIsLeftToRun(args: [String]) {
        let console = Console.recording()
        #expect(Console.$current.withValue(console) { OutboardCommand.runSynchronously(arguments: args) } == nil)
        #expect(console.output.isEmpty && console.errorOutput.isEmpty)
    }

    @Test(arguments: [1, 3, 8])
    func piecesMadeOnManyThreadsAreWrittenInTheirOrderWithFewOut(window: Int) {
        final class Sink: @unchecked Sendable {
            let lock = NSLock()
            var bytes: [UInt8] = []
            var writes = 0
            /// Pieces taken and not yet written, and the most there were at once.
            var out = 0
            var mostOut = 0
        }
        let sink = Sink()
        let output = OrderedOutput(capacity: 4, window: window) { piece in
            // A slow reader: the threads run ahead of the writing as far as they may.
            usleep(200)
            sink.lock.withLock {
                sink.bytes += piece
                sink.writes += 1
                sink.out -= 1
            }
        }
        let count = 300
        let taken = Atomic(0)
        // Pieces of uneven sizes, so they are ready out of order and most are written by
        // another thread than their maker's. Threads of their own: the dispatch pool may be
        // busy with other tests and run the work on fewer.
        let done = DispatchGroup()
        let threads = (0..<4).map { _ in
            done.enter()
            return Thread {
                defer { done.leave() }
                while true {
                    let piece = output.piece()
                    let k = taken.add(1, ordering: .relaxed).oldValue
                    guard k < count else {
                        output.giveBack(piece)
                        return
                    }
                    sink.lock.withLock {
                        sink.out += 1
                        sink.mostOut = max(sink.mostOut, sink.out)
                    }
                    if k % 7 == 0 { usleep(300) }
                    piece.bytes.append(Array("\(k),".utf8))
                    output.deliver(piece, as: k)
                }
            }
        }
        for thread in threads { thread.start() }
        done.wait()
        #expect(String(decoding: sink.bytes, as: UTF8.self) == (0..<count).map { "\($0)," }.joined())
        #expect(sink.writes == count)
        #expect(sink.mostOut <= window)
        if window > 1 { #expect(sink.mostOut > 1) }
    }

    @Test func outputBytesGrowAndKeepEveryByteInOrder() {
        var out = OutputBytes(capacity: 1)
        var expected: [UInt8] = []
        for i in 0..<10_000 {
            let byte = UInt8(truncatingIfNeeded: i)
            out.append(byte)
            expected.append(byte)
            if i % 1000 == 0 {
                out.append("{\"key\":")
                expected += Array("{\"key\":".utf8)
                let run = [UInt8](repeating: UInt8(i % 200), count: i / 10)
                out.append(run)
                expected += run
            }
        }
        #expect(out.count == expected.count)
        #expect(out.withBytes { Array($0) } == expected)
        out.removeAll()
        out.append("x")
        #expect(out.withBytes { Array($0) } == [UInt8(ascii: "x")])
    }

    @Test func aFileIsReadWholeWhateverItsSizeAndKind() throws {
        func contents(_ path: String) -> [UInt8]? { FileBytes(path: path)?.withBytes { Array($0) } }
        let text = String(repeating: "0123456789abcdef", count: 20_000) + "end"
        let file = try temporaryFile("big.txt", text)
        #expect(contents(file) == Array(text.utf8))  // mapped
        #expect(contents(try temporaryFile("empty.txt", "")) == [])  // read: nothing to map
        #expect(contents("/dev/null") == [])  // read: not a regular file
        #expect(contents(file + ".missing") == nil)
        #expect(contents(FileManager.default.temporaryDirectory.path) == nil)
        // A pipe is read to its end, however it comes.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let end = fds[1]
        let writer = Thread {
            for _ in 0..<5 { text.utf8CString.dropLast().withUnsafeBytes { _ = write(end, $0.baseAddress, $0.count) } }
            close(end)
        }
        writer.start()
        #expect(contents("/proc/self/fd/\(fds[0])") == Array(String(repeating: text, count: 5).utf8))
        close(fds[0])
    }

    @Test func onlyTheProcessConsoleKeepsTreesUntilExit() {
        final class Tree {}
        weak var kept: Tree?
        do {
            let tree = Tree()
            kept = tree
            Console.recording().keepUntilExit(tree)
        }
        #expect(kept == nil)
    }
}
