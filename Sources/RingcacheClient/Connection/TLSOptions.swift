import NIOCore
import NIOSSL

/// TLS for every connection the client makes, through swift-nio-ssl.
public struct TLSOptions: Sendable {
    /// PEM file of the certificate authorities to trust; nil = the system's.
    public var caCertificateFile: String?
    /// Client certificate and key (PEM), for servers that authenticate clients (mutual TLS).
    public var certificateFile: String?
    public var privateKeyFile: String?
    /// The name to verify the server's certificate against; nil = the host connected to.
    public var serverHostname: String?

    public init(caCertificateFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil, serverHostname: String? = nil) {
        self.caCertificateFile = caCertificateFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.serverHostname = serverHostname
    }

    func makeContext() throws(RingcacheError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            if let caCertificateFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificateFile))
            }
            if let certificateFile, let privateKeyFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .protocolViolation("TLS configuration: \(error)")
        }
    }

    /// The handler to put first in a new connection's pipeline.
    func handler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        // An IP address is not a valid SNI name; verification then checks the IP SAN.
        let name = serverHostname ?? (host.contains(where: { $0.isLetter && !"abcdefABCDEF:".contains($0) }) ? host : nil)
        return try NIOSSLClientHandler(context: context, serverHostname: name)
    }
}
