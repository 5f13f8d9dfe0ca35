import NIOSSL

/// The server's TLS context for `tls-port`, from PEM files (as redis.conf names them).
enum ServerTLS {
    /// Builds the context, or throws a one-line reason naming the file at fault.
    static func makeContext(_ configuration: ServerConfiguration) throws(StartupError) -> NIOSSLContext {
        guard !configuration.tlsCertFile.isEmpty, !configuration.tlsKeyFile.isEmpty else {
            throw StartupError("tls-port needs tls-cert-file and tls-key-file")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(configuration.tlsCertFile)
        } catch {
            throw StartupError("cannot read tls-cert-file '\(configuration.tlsCertFile)': \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: configuration.tlsKeyFile, format: .pem)
        } catch {
            throw StartupError("cannot read tls-key-file '\(configuration.tlsKeyFile)': \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        switch configuration.tlsAuthClients {
        case "no":
            tls.certificateVerification = .none
        default:
            guard !configuration.tlsCACertFile.isEmpty else {
                throw StartupError("tls-auth-clients \(configuration.tlsAuthClients) needs tls-ca-cert-file to verify client certificates")
            }
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(configuration.tlsCACertFile))
            } catch {
                throw StartupError("cannot read tls-ca-cert-file '\(configuration.tlsCACertFile)': \(error)")
            }
            tls.certificateVerification = configuration.tlsAuthClients == "yes" ? .noHostnameVerification : .optionalVerification
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw StartupError("cannot set up TLS: \(error)")
        }
    }
}
