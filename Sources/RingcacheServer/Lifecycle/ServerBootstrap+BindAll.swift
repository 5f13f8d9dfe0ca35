import NIOCore
import NIOPosix

extension ServerBootstrap {
    /// Binds `port` on every address, or none: if one bind fails, the listeners already open are
    /// closed and the error names the address, as redis-server words it.
    func bindAll(addresses: [String], port: Int, describing what: String) async throws -> [any Channel] {
        var listeners: [any Channel] = []
        for address in addresses {
            do {
                listeners.append(try await bind(host: address, port: port).get())
            } catch {
                for listener in listeners { try? await listener.close() }
                throw StartupError("Could not create \(what) listening socket \(address):\(port): \(error)")
            }
        }
        return listeners
    }
}
