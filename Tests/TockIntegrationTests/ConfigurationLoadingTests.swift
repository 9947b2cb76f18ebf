import Testing
import TockCore
import TockRuntime

@Suite("Configuration files")
struct ConfigurationLoadingTests {
    @Test("a --config file that does not exist is an error; a missing default file means defaults")
    func missingFile() throws {
        #expect(throws: ConfigurationError.self) { try TockConfiguration.load(path: "/nonexistent/tock.yaml", environment: [:]) }
        #expect(try TockConfiguration.load(path: nil, defaultPath: "/nonexistent/tock.yaml", environment: [:]) == TockConfiguration())
    }
}
