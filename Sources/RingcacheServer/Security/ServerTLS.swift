import NIOSSL

/// The server's TLS contexts, from PEM files (as redis.conf names them): one for clients on
/// `tls-port`, and a pair for the links between nodes. Every error is one line naming the
/// file or directive at fault.
enum ServerTLS {
    /// The context for `tls-port`.
    static func makeContext(_ configuration: ServerConfiguration) throws(StartupError) -> NIOSSLContext {
        guard !configuration.tlsCertFile.isEmpty, !configuration.tlsKeyFile.isEmpty else {
            throw StartupError("tls-port needs tls-cert-file and tls-key-file")
        }
        let (chain, key) = try loadIdentity(configuration)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        switch configuration.tlsAuthClients {
        case "no":
            tls.certificateVerification = .none
        default:
            guard !configuration.tlsCACertFile.isEmpty else {
                throw StartupError("tls-auth-clients \(configuration.tlsAuthClients) needs tls-ca-cert-file to verify client certificates")
            }
            tls.trustRoots = .certificates(try loadAuthorities(configuration))
            tls.certificateVerification = configuration.tlsAuthClients == "yes" ? .noHostnameVerification : .optionalVerification
        }
        return try context(tls, purpose: "TLS")
    }

    /// The contexts for the TCP links between nodes (replication and slot fills) under
    /// `tls-replication yes` or `tls-cluster yes`: each node presents `tls-cert-file` and
    /// accepts only peers whose certificate `tls-ca-cert-file` signed, both ways (as Redis
    /// does for its cluster bus). Peers are addressed by IP, so host names are not checked.
    /// Nil when neither directive is on.
    static func makeLinkContexts(_ configuration: ServerConfiguration) throws(StartupError) -> LinkTLS? {
        guard configuration.tlsReplication || configuration.tlsCluster else { return nil }
        let directive = configuration.tlsCluster ? "tls-cluster" : "tls-replication"
        guard !configuration.tlsCertFile.isEmpty, !configuration.tlsKeyFile.isEmpty, !configuration.tlsCACertFile.isEmpty else {
            throw StartupError("\(directive) yes needs tls-cert-file, tls-key-file and tls-ca-cert-file")
        }
        let (chain, key) = try loadIdentity(configuration)
        let authorities = try loadAuthorities(configuration)
        var accepting = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        var connecting = TLSConfiguration.makeClientConfiguration()
        connecting.certificateChain = chain.map { .certificate($0) }
        connecting.privateKey = .privateKey(key)
        accepting.minimumTLSVersion = .tlsv12
        connecting.minimumTLSVersion = .tlsv12
        accepting.trustRoots = .certificates(authorities)
        connecting.trustRoots = .certificates(authorities)
        accepting.certificateVerification = .noHostnameVerification
        connecting.certificateVerification = .noHostnameVerification
        return LinkTLS(accepting: try context(accepting, purpose: "TLS for the links between nodes"),
                       connecting: try context(connecting, purpose: "TLS for the links between nodes"))
    }

    private static func loadIdentity(_ configuration: ServerConfiguration) throws(StartupError) -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(configuration.tlsCertFile)
        } catch {
            throw StartupError("cannot read tls-cert-file '\(configuration.tlsCertFile)': \(error)")
        }
        do {
            return (chain, try NIOSSLPrivateKey(file: configuration.tlsKeyFile, format: .pem))
        } catch {
            throw StartupError("cannot read tls-key-file '\(configuration.tlsKeyFile)': \(error)")
        }
    }

    private static func loadAuthorities(_ configuration: ServerConfiguration) throws(StartupError) -> [NIOSSLCertificate] {
        do {
            return try NIOSSLCertificate.fromPEMFile(configuration.tlsCACertFile)
        } catch {
            throw StartupError("cannot read tls-ca-cert-file '\(configuration.tlsCACertFile)': \(error)")
        }
    }

    private static func context(_ configuration: TLSConfiguration, purpose: String) throws(StartupError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw StartupError("cannot set up \(purpose): \(error)")
        }
    }
}

/// TLS contexts for the links between nodes: one to accept them, one to open them.
struct LinkTLS: Sendable {
    let accepting: NIOSSLContext
    let connecting: NIOSSLContext
}
