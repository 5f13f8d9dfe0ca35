/// What a call can fail with. `wasSent` tells whether the request may have reached a node:
/// a write is retried only when it was not.
public enum RingcacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect (refused, unreachable, connect timeout): nothing was sent.
    case connectionFailed(Endpoint, String)
    /// The connection broke or the reply did not come in time after the request went out.
    case connectionLost(Endpoint, String)
    case timeout(Endpoint)
    /// The node's circuit breaker is open: recent calls failed, so this one fails fast.
    case circuitOpen(Endpoint)
    /// An error reply from the server, e.g. `WRONGTYPE ...`.
    case server(String)
    case tooManyRedirects(String)
    /// No node is known for a slot, or none could be asked for the topology.
    case noNodeForSlot(Int)
    case protocolViolation(String)
    case cancelled

    public var wasSent: Bool {
        switch self {
        case .connectionFailed, .circuitOpen, .noNodeForSlot: false
        case .connectionLost, .timeout, .server, .tooManyRedirects, .protocolViolation, .cancelled: true
        }
    }

    /// Failures of the node or the network, as opposed to answers.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .timeout, .circuitOpen, .noNodeForSlot: true
        case .server(let message): message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("LOADING")
        case .tooManyRedirects, .protocolViolation, .cancelled: false
        }
    }

    public var description: String {
        switch self {
        case let .connectionFailed(endpoint, reason): "can't connect to \(endpoint): \(reason)"
        case let .connectionLost(endpoint, reason): "connection to \(endpoint) lost: \(reason)"
        case let .timeout(endpoint): "\(endpoint) did not answer in time"
        case let .circuitOpen(endpoint): "\(endpoint) is failing; its circuit breaker is open"
        case let .server(message): message
        case let .tooManyRedirects(last): "too many redirects (last: \(last))"
        case let .noNodeForSlot(slot): "no node serves slot \(slot)"
        case let .protocolViolation(reason): "protocol violation: \(reason)"
        case .cancelled: "cancelled"
        }
    }
}
