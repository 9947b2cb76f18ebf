extension HiredisContext {
    /// Connects to `address` and logs in with `url`'s credentials and database.
    /// `passwordOptional`: a server without a password (a Sentinel that has none set while the
    /// data nodes do) is used without logging in, instead of failing.
    static func open(
        _ url: RedisURL, at address: RedisNodeAddress? = nil, connectTimeout: Duration, commandTimeout: Duration, passwordOptional: Bool = false
    ) throws(RedisError) -> HiredisContext {
        let address = address ?? url.address
        let context = try HiredisContext(host: address.host, port: address.port, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        var setup: [[RedisArgument]] = []
        if let password = url.password {
            setup.append(["AUTH"] + (url.user.map { [RedisArgument($0)] } ?? []) + [RedisArgument(password)])
        }
        if url.database != 0 { setup.append(["SELECT", RedisArgument(url.database)]) }
        guard !setup.isEmpty else { return context }
        for reply in try context.roundTrip(setup.map { RESPArguments.command(RESPArguments($0)) }) {
            if passwordOptional, case .error(let message) = reply, message.contains("without any password configured") { continue }
            _ = try reply.throwingServerError()
        }
        return context
    }

    /// One command on this context, its error reply thrown.
    func call(_ arguments: [RedisArgument]) throws(RedisError) -> RedisValue {
        try roundTrip([RESPArguments.command(RESPArguments(arguments))])[0].throwingServerError()
    }
}
