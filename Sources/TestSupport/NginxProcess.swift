import Foundation

/// A real nginx (Debian's) serving a directory of feed files on 127.0.0.1, started by the tests
/// with a temporary configuration and stopped by its PID. nginx sends ETag and Last-Modified for
/// static files and answers a matching If-None-Match with 304, as real feed servers do.
public final class NginxProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let root: URL
    /// With TLS: the HTTPS port, and the self-signed certificate (for 127.0.0.1) to trust.
    public private(set) var tlsPort: Int?
    public private(set) var certificate: String?

    public var base: String { "http://127.0.0.1:\(port)" }

    /// The URL of a file in the served directory.
    public func url(_ name: String) -> String { "\(base)/\(name)" }

    /// The HTTPS URL of a file (nginx started with `tls: true`). Under it, `/to-http/NAME`
    /// redirects to NAME over plain HTTP and `/to-https/NAME` to NAME over HTTPS.
    public func tlsURL(_ name: String) -> String { "https://127.0.0.1:\(tlsPort ?? 0)/\(name)" }

    /// Starts nginx; with `tls`, also on an HTTPS port with a certificate made here (openssl).
    public static func start(tls: Bool = false) throws -> NginxProcess {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-nginx-\(UUID().uuidString)")
        let root = dir.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        if tls { try makeCertificate(cert: cert, key: key) }
        for _ in 0..<5 {
            let port = try freePort()
            let tlsPort = tls ? try freePort() : nil
            let conf = configuration(dir: dir, root: root, port: port, tlsPort: tlsPort, cert: cert, key: key)
            try conf.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            p.arguments = ["-p", dir.path, "-c", dir.appendingPathComponent("nginx.conf").path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Ready when it accepts a connection (at most 5 s).
            for _ in 0..<1000 {
                if !p.isRunning { break }
                if canConnect(port), tlsPort.map(canConnect) ?? true {
                    let n = NginxProcess(process: p, port: port, root: root)
                    n.tlsPort = tlsPort
                    n.certificate = tls ? cert : nil
                    return n
                }
                usleep(5000)
            }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitForExit()
            }
        }
        throw StartFailure(
            log: (try? String(contentsOf: dir.appendingPathComponent("error.log"), encoding: .utf8)) ?? "")
    }

    /// A self-signed certificate for 127.0.0.1 (openssl), valid two days.
    static func makeCertificate(cert: String, key: String) throws {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            // An EC key: an RSA key of 2,048 bits took openssl 0.1-0.25 s of CPU to make, this none.
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitForExit()
        guard openssl.terminationStatus == 0 else {
            throw StartFailure(
                log: "openssl could not make a test certificate (is openssl installed? bash .ci/setup)")
        }
    }

    /// The configuration of one nginx: feeds from `root` on `port`, the test locations, and
    /// with a `tlsPort` the same over HTTPS.
    static func configuration(dir: URL, root: URL, port: Int, tlsPort: Int?, cert: String, key: String) -> String {
        let tls = tlsPort.map { tlsServer(root: root, port: port, tlsPort: $0, cert: cert, key: key) } ?? ""
        return """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/error.log warn;
            events { worker_connections 64; }
            http {
                # One line per request: its path (no query) and the status answered.
                log_format outboard '$uri $status';
                access_log \(dir.path)/access.log outboard;
                client_body_temp_path \(dir.path)/body;
                proxy_temp_path \(dir.path)/proxy;
                fastcgi_temp_path \(dir.path)/fastcgi;
                uwsgi_temp_path \(dir.path)/uwsgi;
                scgi_temp_path \(dir.path)/scgi;
                types { text/calendar ics; }
                gzip on;
                gzip_types text/calendar;
                gzip_min_length 1;
            \(server(root: root, port: port))
            \(tls)
            }
            """
    }

    /// The plain HTTP server: the feeds, a redirect, a redirect loop, and a feed that echoes
    /// the User-Agent.
    static func server(root: URL, port: Int) -> String {
        """
            server {
                listen 127.0.0.1:\(port);
                root \(root.path);
                etag on;
                # /moved/NAME redirects to /NAME, to test that feeds follow redirects.
                location /moved/ { rewrite ^/moved/(.*)$ /$1 permanent; }
                location = /loop.ics { return 302 /loop.ics; }
                # /private/ answers 401 without the Basic credentials outboard:right.
                location /private/ {
                    if ($http_authorization != "Basic b3V0Ym9hcmQ6cmlnaHQ=") { return 401; }
                }
                # /user-agent.ics is a feed of one event whose SUMMARY is the User-Agent the
                # request came with: what the server saw travels through a pass to the target.
                location = /user-agent.ics {
                    default_type text/calendar;
                    return 200 "BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nPRODID:-//nginx//echo//EN\\r\\nBEGIN:VEVENT\\r\\nUID:user-agent@nginx\\r\\nDTSTAMP:20260101T000000Z\\r\\nDTSTART:20260301T150000Z\\r\\nSUMMARY:$http_user_agent\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n";
                }
            }
        """
    }

    /// The HTTPS server: the same feeds, and redirects from HTTPS to HTTP and to HTTPS.
    static func tlsServer(root: URL, port: Int, tlsPort: Int, cert: String, key: String) -> String {
        """
            server {
                listen 127.0.0.1:\(tlsPort) ssl;
                ssl_certificate \(cert);
                ssl_certificate_key \(key);
                root \(root.path);
                etag on;
                location /to-http/ {
                    rewrite ^/to-http/(.*)$ http://127.0.0.1:\(port)/$1 permanent;
                }
                location /to-https/ {
                    rewrite ^/to-https/(.*)$ https://127.0.0.1:\(tlsPort)/$1 permanent;
                }
            }
        """
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "nginx did not start (is nginx-light installed? bash .ci/setup): \(log)" }
    }

    private init(process: Process, port: Int, root: URL) {
        self.process = process
        self.port = port
        self.root = root
    }

    /// The requests nginx answered for a path (`/NAME`), oldest first, each as its status
    /// (`200`, `304`): how many clients the feed's host saw.
    public func requests(_ path: String) -> [Int] {
        let log = root.deletingLastPathComponent().appendingPathComponent("access.log")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 && parts[0] == path ? Int(parts[1]) : nil
        }
    }

    /// Writes a file to serve (its ETag changes with its size and modification time).
    public func put(_ name: String, _ bytes: [UInt8]) throws {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        // nginx's ETag is mtime-size; make two writes within one second differ.
        let stamp = Date().addingTimeInterval(Double(Self.counter.next()))
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: url.path)
    }

    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var value = 0
        func next() -> Int {
            lock.withLock {
                value += 1
                return value
            }
        }
    }
    static let counter = Counter()

    /// Stops it with SIGKILL: nginx in single-process mode keeps the signal mask it inherits from
    /// the test runner, where SIGTERM is blocked, so only SIGKILL ends it.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    deinit { stop() }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
