import Foundation
import Testing
@testable import Broker
import Specs

/// fs.read / fs.write / fs.list on real files, with the escape attempts an agent can make: it owns
/// its workspace, so it can plant symlinks, FIFOs and directories there before calling a tool.
@Suite struct ToolsFileTests {
    /// A scratch tree: `ws/` is the workspace, `outside/secret.txt` must stay unreachable.
    final class Tree {
        let root: URL
        var workspace: URL { root.appendingPathComponent("ws") }
        var outside: URL { root.appendingPathComponent("outside") }
        let tools: (read: FileReadTool, write: FileWriteTool, list: FileListTool)

        init() throws {
            root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("warden-tools-\(UUID().uuidString.prefix(8))")
            let fm = FileManager.default
            try fm.createDirectory(at: root.appendingPathComponent("ws/notes/deep"), withIntermediateDirectories: true)
            try fm.createDirectory(at: root.appendingPathComponent("outside"), withIntermediateDirectories: true)
            try "TOP SECRET".write(to: root.appendingPathComponent("outside/secret.txt"), atomically: true, encoding: .utf8)
            try "hello notes".write(to: root.appendingPathComponent("ws/notes/a.txt"), atomically: true, encoding: .utf8)
            try "private".write(to: root.appendingPathComponent("ws/private.txt"), atomically: true, encoding: .utf8)
            let links: [(String, String)] = [
                ("ws/passwd", "/etc/passwd"), ("ws/up", ".."), ("ws/notesdir", "notes"), ("ws/procroot", "/proc/self/root"),
                ("ws/inside", "notes/a.txt"), ("ws/notes/leak", "../private.txt"), ("ws/evil", "../outside/secret.txt"),
                ("ws/fdlink", "/proc/self/fd/0"),
            ]
            for (path, target) in links {
                try fm.createSymbolicLink(atPath: root.appendingPathComponent(path).path, withDestinationPath: target)
            }
            mkfifo(root.appendingPathComponent("ws/pipe").path, 0o644)
            let workspace = try WorkspaceRoot(hostPath: root.appendingPathComponent("ws").path)
            tools = (FileReadTool(workspace: workspace), FileWriteTool(workspace: workspace), FileListTool(workspace: workspace))
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func text(_ path: String) -> String? { try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
    }

    static let everything = ToolRule(name: "fs.read")

    /// Paths that must not be readable, however written.
    static let escapes = [
        "../outside/secret.txt", "../../etc/shadow", "/etc/passwd", "/etc/shadow", "/workspace/../outside/secret.txt",
        "passwd", "up/outside/secret.txt", "notesdir/../../outside/secret.txt", "notes/../../outside/secret.txt",
        "procroot/etc/passwd", "/proc/self/root/etc/passwd", "evil", "fdlink", "up", "notes/deep/../../../outside/secret.txt",
    ]

    @Test(arguments: escapes) func readEscapesAreRefused(_ path: String) throws {
        let tree = try Tree()
        let result = tree.tools.read.call(["path": .string(path)], rule: Self.everything)
        #expect(result.isError, "\(path) -> \(result.text)")
        #expect(!result.text.contains("TOP SECRET") && !result.text.contains("root:"), "\(result.text)")
    }

    @Test func readsInsideTheWorkspaceWork() throws {
        let tree = try Tree()
        for path in ["notes/a.txt", "/workspace/notes/a.txt", "inside", "notesdir/a.txt", "notes/deep/../a.txt"] {
            let result = tree.tools.read.call(["path": .string(path)], rule: Self.everything)
            #expect(!result.isError && result.text == "hello notes", "\(path) -> \(result.text)")
        }
        let cut = tree.tools.read.call(["path": .string("notes/a.txt"), "maxBytes": .number(JSONNumber(5))], rule: Self.everything)
        #expect(cut.text == "hello" && cut.structured?["truncated"] == .bool(true))
        let ruleCut = tree.tools.read.call(["path": .string("notes/a.txt"), "offset": .number(JSONNumber(6))],
                                           rule: ToolRule(name: "fs.read", maxBytes: 3))
        #expect(ruleCut.text == "not")
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let tree = try Tree()
        let result = tree.tools.read.call(["path": .string("pipe")], rule: Self.everything)
        #expect(result.isError && result.text.contains("not a regular file"), "\(result.text)")
    }

    @Test func globsApplyToWhereAPathResolves() throws {
        let tree = try Tree()
        let rule = ToolRule(name: "fs.read", paths: ["notes/**"])
        #expect(!tree.tools.read.call(["path": .string("notes/a.txt")], rule: rule).isError)
        #expect(tree.tools.read.call(["path": .string("private.txt")], rule: rule).denied)
        // notes/leak -> ../private.txt: the text says notes/, the file is not under it.
        let leak = tree.tools.read.call(["path": .string("notes/leak")], rule: rule)
        #expect(leak.denied && !leak.text.contains("private\n"), "\(leak.text)")
        // notesdir -> notes: the text is not under notes/, the file is.
        #expect(!tree.tools.read.call(["path": .string("notesdir/a.txt")], rule: rule).isError)
    }

    @Test func writesAreAtomicAndStayInside() throws {
        let tree = try Tree()
        let rule = ToolRule(name: "fs.write", maxBytes: 64)
        let made = tree.tools.write.call(["path": .string("out/new.txt"), "content": .string("one"), "createDirectories": .bool(true)], rule: rule)
        #expect(!made.isError && tree.text("ws/out/new.txt") == "one", "\(made.text)")
        _ = tree.tools.write.call(["path": .string("out/new.txt"), "content": .string("two")], rule: rule)
        #expect(tree.text("ws/out/new.txt") == "two")
        // Through a planted symlink: the link itself is replaced; the file it pointed at is untouched.
        #expect(!tree.tools.write.call(["path": .string("evil"), "content": .string("pwned")], rule: rule).isError)
        #expect(tree.text("outside/secret.txt") == "TOP SECRET" && tree.text("ws/evil") == "pwned")
        for path in ["../outside/x.txt", "/tmp/x.txt", "up/outside/secret.txt", "procroot/tmp/x.txt", "notesdir/../../outside/x"] {
            let refused = tree.tools.write.call(["path": .string(path), "content": .string("x"), "createDirectories": .bool(true)], rule: rule)
            #expect(refused.isError, "\(path) -> \(refused.text)")
        }
        #expect(tree.text("outside/secret.txt") == "TOP SECRET")
        #expect(!FileManager.default.fileExists(atPath: tree.outside.appendingPathComponent("x.txt").path))
        let climb = tree.tools.write.call(["path": .string("fresh/../../outside/y.txt"), "content": .string("x"), "createDirectories": .bool(true)], rule: rule)
        #expect(climb.denied && !FileManager.default.fileExists(atPath: tree.workspace.appendingPathComponent("fresh").path), "\(climb.text)")
        let big = tree.tools.write.call(["path": .string("big.txt"), "content": .string(String(repeating: "x", count: 65))], rule: rule)
        #expect(big.denied)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tree.workspace.path).filter { $0.hasPrefix(".warden-write") }
        #expect(leftovers.isEmpty)
    }

    @Test func listingShowsKindsAndRefusesTheOutside() throws {
        let tree = try Tree()
        let rule = ToolRule(name: "fs.list")
        let listing = tree.tools.list.call([:], rule: rule)
        #expect(!listing.isError)
        guard case .array(let entries)? = listing.structured?["entries"] else { Issue.record("no entries"); return }
        let kinds = Dictionary(uniqueKeysWithValues: entries.compactMap { entry -> (String, String)? in
            guard case .object(let object) = entry, case .string(let name)? = object["name"], case .string(let kind)? = object["type"] else { return nil }
            return (name, kind)
        })
        #expect(kinds["notes"] == "directory" && kinds["passwd"] == "symlink" && kinds["private.txt"] == "file" && kinds["pipe"] == "other")
        for path in ["..", "up", "/", "procroot", "/workspace/.."] {
            #expect(tree.tools.list.call(["path": .string(path)], rule: rule).isError, "\(path)")
        }
        #expect(!tree.tools.list.call(["path": .string("/workspace/notes")], rule: rule).isError)
    }
}
