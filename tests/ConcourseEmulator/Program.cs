// Concourse API EMULATOR - not a real Concourse. Runs the in-process emulator standalone for local runs and benchmarks:
//
//   dotnet run --project tests/ConcourseEmulator -- --port 8090 --build-seconds 3 --username admin --password admin --team main
//
// It serves the Concourse routes of docs/concourse-api.md (token endpoint, pipelines, config, jobs, builds) and, without
// auth, these control routes (204 on success, 400 with a reason on bad input):
//   GET    /_emulator/stats                                    pipelines, builds by status, build duration, request count
//   GET    /_emulator/requests?limit=100                       the most recent requests (method, path, status, fault)
//   PUT    /_emulator/build-duration?seconds=0.5               run time of builds started from now on
//   POST   /_emulator/script?pipeline=*&job=deploy&status=failed[,errored...]   outcomes of the next builds of a job
//   POST   /_emulator/hold?job=deploy                          keep builds of the job "started" ...
//   POST   /_emulator/release?job=deploy                       ... until released
//   POST   /_emulator/teams?name=other                         add a team
//   POST   /_emulator/faults/fail?status=503[&count=1&path=/config&method=PUT]
//   POST   /_emulator/faults/hang?seconds=30[&count=1&path=&method=]
//   POST   /_emulator/faults/lose-response[?count=1&path=/builds&method=POST&mode=502|abort]
//   DELETE /_emulator/faults                                   disarm all faults
//   POST   /_emulator/expire-tokens                            every issued token stops working (next call gets 401)
using System.Globalization;
using OnDemand.ConcourseEmulator;

var options = new EmulatorOptions { Port = 8090, MinimumLogLevel = LogLevel.Information };
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--port":
                options.Port = int.Parse(Value(), CultureInfo.InvariantCulture);
                break;
            case "--build-seconds":
                var seconds = double.Parse(Value(), CultureInfo.InvariantCulture);
                options.BuildDuration = seconds >= 0 ? TimeSpan.FromSeconds(seconds) : throw new FormatException("--build-seconds must be >= 0");
                break;
            case "--username":
                options.Username = Value();
                break;
            case "--password":
                options.Password = Value();
                break;
            case "--team":
                options.Team = Value();
                break;
            case "--quiet":
                options.MinimumLogLevel = LogLevel.Warning;
                break;
            default:
                throw new FormatException($"unknown argument '{args[i]}'");
        }
    }
}
catch (Exception ex) when (ex is FormatException or OverflowException)
{
    Console.Error.WriteLine($"Invalid arguments: {ex.Message}");
    Console.Error.WriteLine("Usage: [--port 8090] [--build-seconds 3] [--username admin] [--password admin] [--team main] [--quiet]");
    return 2;
}

await using var server = await ConcourseEmulatorServer.StartAsync(options);
await server.WaitForShutdownAsync();
return 0;
