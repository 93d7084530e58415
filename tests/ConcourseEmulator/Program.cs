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
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--port" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port):
            options.Port = port;
            break;
        case "--build-seconds" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0:
            options.BuildDuration = TimeSpan.FromSeconds(seconds);
            break;
        case "--username" when value is not null:
            options.Username = value;
            break;
        case "--password" when value is not null:
            options.Password = value;
            break;
        case "--team" when value is not null:
            options.Team = value;
            break;
        case "--quiet":
            options.MinimumLogLevel = LogLevel.Warning;
            i--; // a flag without value
            break;
        default:
            Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'.");
            Console.Error.WriteLine("Usage: [--port 8090] [--build-seconds 3] [--username admin] [--password admin] [--team main] [--quiet]");
            return 2;
    }
    i++;
}

await using var server = await ConcourseEmulatorServer.StartAsync(options);
await server.WaitForShutdownAsync();
return 0;
