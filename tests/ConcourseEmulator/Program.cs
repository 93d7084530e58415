// Concourse API EMULATOR - not a real Concourse. Runs the in-process emulator standalone for local runs and benchmarks:
//
//   dotnet run --project tests/ConcourseEmulator -- --port 8090 --build-seconds 3 --username admin --password admin --team main
//       [--state-file .data/concourse-emulator.json] [--cluster-postgres "Host=...;Username=postgres;Password=...;Database=postgres"]
//       [--credhub-client-id broker --credhub-client-secret broker-secret]
//
// Secrets stay off the command line (where `ps` shows them): these environment variables set them, and a flag given
// anyway wins (tests use the flags):
//   CONCOURSE_EMULATOR_PASSWORD               --password
//   CONCOURSE_EMULATOR_CLUSTER_POSTGRES       --cluster-postgres
//   CONCOURSE_EMULATOR_CREDHUB_CLIENT_SECRET  --credhub-client-secret
//
// --state-file keeps teams, pipelines, jobs, builds and CredHub values across restarts (builds running at a stop go on
// running after the restart). --cluster-postgres (a superuser connection) makes a succeeded deploy build create the
// cluster's admin role from CredHub's ((admin_username))/((admin_password)), failing the build when they are missing,
// and a succeeded delete build drop that role and its databases.
//
// The same port serves a fake CredHub (CredHub:Url = http://127.0.0.1:8090/credhub) and its UAA
// (CredHub:UaaUrl = http://127.0.0.1:8090/uaa, client credentials grant, client broker / broker-secret by default):
//   POST   /uaa/oauth/token                                    client credentials (HTTP Basic) -> access_token, expires_in
//   PUT    /credhub/api/v1/data                                {"name":"/concourse/main/p/var","type":"value","value":"..."}
//   GET    /credhub/api/v1/data?name=/concourse/main/p/var&current=true
//   DELETE /credhub/api/v1/data?name=/concourse/main/p/var
//
// It serves the Concourse routes of docs/concourse-api.md (token endpoint, pipelines, config, jobs, builds) and, without
// auth, these control routes (204 on success, 400 with a reason on bad input):
//   GET    /_emulator/stats                                    pipelines, builds by status, build duration, request count
//   GET    /_emulator/pipelines                                every pipeline: team, name, paused, jobs and their last build
//   POST   /_emulator/builds  ["pipeline", ...]                per pipeline: live, deploy and delete builds ever
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
if (Environment.GetEnvironmentVariable("CONCOURSE_EMULATOR_PASSWORD") is { Length: > 0 } password)
{
    options.Password = password;
}
if (Environment.GetEnvironmentVariable("CONCOURSE_EMULATOR_CLUSTER_POSTGRES") is { Length: > 0 } clusterPostgres)
{
    options.ClusterPostgres = clusterPostgres;
}
if (Environment.GetEnvironmentVariable("CONCOURSE_EMULATOR_CREDHUB_CLIENT_SECRET") is { Length: > 0 } credHubSecret)
{
    options.CredHubClientSecret = credHubSecret;
}
var innerBrokerPort = 0;
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
            case "--state-file":
                options.StateFile = Value();
                break;
            case "--cluster-postgres":
                options.ClusterPostgres = Value();
                break;
            case "--credhub-client-id":
                options.CredHubClientId = Value();
                break;
            case "--credhub-client-secret":
                options.CredHubClientSecret = Value();
                break;
            case "--inner-broker-port":
                innerBrokerPort = int.Parse(Value(), CultureInfo.InvariantCulture);
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
    Console.Error.WriteLine("       [--state-file PATH] [--cluster-postgres CONNECTION-STRING] [--credhub-client-id broker] [--credhub-client-secret broker-secret]");
    Console.Error.WriteLine("Secrets from the environment instead: CONCOURSE_EMULATOR_PASSWORD, CONCOURSE_EMULATOR_CLUSTER_POSTGRES, CONCOURSE_EMULATOR_CREDHUB_CLIENT_SECRET");
    Console.Error.WriteLine("       [--inner-broker-port PORT]");
    return 2;
}

ConcourseEmulatorServer server;
try
{
    server = await ConcourseEmulatorServer.StartAsync(options);
}
catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
{
    // A damaged state file or a malformed --cluster-postgres: say so plainly, and leave the file as it is.
    Console.Error.WriteLine($"The emulator cannot start: {ex.Message}");
    return 1;
}
// --inner-broker-port: a FakeInnerBroker (in memory, synchronous, any Basic credentials) standing in for the inner OSB
// broker of every emulated cluster, for the "osb" database provisioner (bench/scale-out.sh: Databases__Endpoints__osb__*).
FakeInnerBroker? innerBroker = null;
if (innerBrokerPort > 0)
{
    innerBroker = await FakeInnerBroker.StartAsync("any", "any", TimeSpan.Zero, innerBrokerPort, anyCredentials: true);
    Console.WriteLine($"Fake inner OSB broker (any Basic credentials, in memory, not a database) on {innerBroker.Url}");
}
await using (server)
{
    await server.WaitForShutdownAsync();
}
if (innerBroker is not null) await innerBroker.DisposeAsync();
return 0;
