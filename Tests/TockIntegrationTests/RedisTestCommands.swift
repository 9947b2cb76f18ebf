import TockRedis

/// A command whose reply decodes as `Response`: the typed commands only the tests use, to check
/// the client's reply decoding and typed pipelines.
struct TestCommand<Response: RedisReplyDecodable>: RedisCommand {
    var arguments: [RedisArgument]
}

/// Answers the new value.
func INCR(_ key: RedisArgument) -> TestCommand<Int64> { TestCommand(arguments: ["INCR", key]) }

/// Answers how many of the keys exist (a key named twice counts twice).
func EXISTS(_ keys: RedisArgument...) -> TestCommand<Int64> { TestCommand(arguments: ["EXISTS"] + keys) }

/// Answers the number of fields that were added (not updated).
func HSET(_ key: RedisArgument, fields: [(field: RedisArgument, value: RedisArgument)]) -> TestCommand<Int64> {
    TestCommand(arguments: ["HSET", key] + fields.flatMap { [$0.field, $0.value] })
}
