// OSB load generator for bench/run.sh. Subcommands:
//
//   clusters   create --count cluster instances through OSB PUT (at most --concurrency PUTs in flight), poll every
//              instance's last_operation until it is succeeded or failed, report wall time, creates/s and PUT latency;
//              --replay then PUTs every created instance again (idempotent 200, no storage write) as a baseline,
//              --replay-passes N times over; --replay-only replays the instances an earlier run of the same --prefix and
//              --count created, and creates nothing (so that a script can measure the creates' CPU apart).
//   soak       multi-tenant load for --seconds (Soak.cs): --tenants T --workers W --readers R --databases D
//              [--delete-all] [--events FILE] [--emulator URL]; a table of ops/s, p50/p99 per endpoint, failures
//              around each event of FILE, and the final check against the emulator (nothing lost, no duplicate build).
//   activate   GET last_operation of --count distinct unknown instance ids (--prefix-N): grain activations, for the
//              memory cost per activation (bench/scale-out.sh)
//   databases  create --per-cluster databases in each of --clusters clusters (created first, or --existing-clusters
//              PREFIX made by an earlier `clusters --prefix PREFIX` run), with parameters {"cluster": "<instance name>"}
//              in the cluster's space; the same measurements.
//
// Common flags: --url http://127.0.0.1:18080 --username broker --password P (or env BROKER_PASSWORD)
//   --concurrency 64 --poll-concurrency 16 --poll-interval-ms 200 --timeout-seconds 300 --prefix ID --org o --space s
//   --out FILE (key=value results, for scripts) --quiet
// --timeout-seconds bounds each phase as a whole (PUTs and polling): what has not finished by then counts as timed out.
using System.Globalization;
using OnDemand.LoadGenerator;

try
{
    var options = Options.Parse(args);
    return options.Command switch
    {
        "clusters" => await Scenarios.ClustersAsync(options),
        "databases" => await Scenarios.DatabasesAsync(options),
        "soak" => await Soak.RunAsync(options),
        "activate" => await Soak.ActivateAsync(options),
        _ => throw new FormatException($"unknown subcommand '{options.Command}'"),
    };
}
catch (FormatException e)
{
    Console.Error.WriteLine($"loadgen: {e.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
{
    Console.Error.WriteLine($"loadgen: {e.GetType().Name}: {e.Message}");
    return 1;
}

namespace OnDemand.LoadGenerator
{
    internal sealed class Options
    {
        public const string Usage =
            "usage: loadgen clusters|databases [--url U] [--username U] [--password P] [--count N] [--concurrency C]\n" +
            "         [--poll-concurrency C] [--poll-interval-ms MS] [--timeout-seconds S] [--prefix ID] [--org O] [--space S]\n" +
            "         [--service-id ID] [--plan-id ID] [--replay] [--replay-passes N] [--replay-only] [--out FILE] [--quiet]\n" +
            "       databases only: [--clusters N] [--per-cluster N] [--database-plan-id ID] [--existing-clusters PREFIX]\n" +
            "       soak only: [--seconds S] [--tenants T] [--workers W] [--readers R] [--databases D] [--delete-all] [--events FILE] [--stop-file FILE] [--emulator URL] [--inner-broker URL]";

        public string Command { get; private set; } = "";
        public Uri Url { get; private set; } = new("http://127.0.0.1:18080");
        public string Username { get; private set; } = Environment.GetEnvironmentVariable("BROKER_USERNAME") ?? "broker";
        public string Password { get; private set; } = Environment.GetEnvironmentVariable("BROKER_PASSWORD") ?? "";
        public int Count { get; private set; } = 1000;
        public int Concurrency { get; private set; } = 64;
        public int PollConcurrency { get; private set; } = 16;
        public TimeSpan PollInterval { get; private set; } = TimeSpan.FromMilliseconds(200);
        public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(300);
        public string Prefix { get; private set; } = $"lg-{DateTime.UtcNow:HHmmss}-{Random.Shared.Next(0x10000):x4}";
        public string Org { get; private set; } = "bench-org";
        public string Space { get; private set; } = "bench-space";
        public string ServiceId { get; private set; } = "811b8485-aa65-4bea-b4d0-f10f32833187";
        public string PlanId { get; private set; } = "38ee5955-c98a-402e-bb40-34f509bdc233";
        public string DatabasePlanId { get; private set; } = "da90a5b6-1ddd-4d7e-9b65-2da8c8ce37f6";
        public int Clusters { get; private set; } = 1000;
        public int PerCluster { get; private set; } = 10;
        public string? ExistingClusters { get; private set; }
        public bool Replay { get; private set; }
        public int ReplayPasses { get; private set; } = 1;
        /// <summary>Only the replay, of instances an earlier run with the same prefix and count created.</summary>
        public bool ReplayOnly { get; private set; }
        public string? Out { get; private set; }
        public bool Quiet { get; private set; }
        public int Seconds { get; private set; } = 30;
        public int Tenants { get; private set; } = 4;
        public int Workers { get; private set; } = 8;
        public int Readers { get; private set; } = 4;
        public int Databases { get; private set; }
        public bool DeleteAll { get; private set; }
        public string? Events { get; private set; }
        public string? StopFile { get; private set; }
        public Uri? Emulator { get; private set; }
        public Uri? InnerBroker { get; private set; }

        public static Options Parse(string[] args)
        {
            if (args.Length == 0 || args[0].StartsWith('-')) throw new FormatException("a subcommand is required");
            var o = new Options { Command = args[0] };
            for (var i = 1; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                int Int() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new FormatException($"{args[i]} needs a positive integer");
                switch (args[i])
                {
                    case "--url": o.Url = new Uri(Value().TrimEnd('/') + "/"); break;
                    case "--username": o.Username = Value(); break;
                    case "--password": o.Password = Value(); break;
                    case "--count": o.Count = Int(); break;
                    case "--concurrency": o.Concurrency = Int(); break;
                    case "--poll-concurrency": o.PollConcurrency = Int(); break;
                    case "--poll-interval-ms": o.PollInterval = TimeSpan.FromMilliseconds(Int()); break;
                    case "--timeout-seconds": o.Timeout = TimeSpan.FromSeconds(Int()); break;
                    case "--prefix": o.Prefix = Value(); break;
                    case "--org": o.Org = Value(); break;
                    case "--space": o.Space = Value(); break;
                    case "--service-id": o.ServiceId = Value(); break;
                    case "--plan-id": o.PlanId = Value(); break;
                    case "--database-plan-id": o.DatabasePlanId = Value(); break;
                    case "--clusters": o.Clusters = Int(); break;
                    case "--per-cluster": o.PerCluster = Int(); break;
                    case "--existing-clusters": o.ExistingClusters = Value(); break;
                    case "--replay": o.Replay = true; break;
                    case "--replay-passes": o.Replay = true; o.ReplayPasses = Int(); break;
                    case "--replay-only": o.Replay = true; o.ReplayOnly = true; break;
                    case "--out": o.Out = Value(); break;
                    case "--quiet": o.Quiet = true; break;
                    case "--seconds": o.Seconds = Int(); break;
                    case "--tenants": o.Tenants = Int(); break;
                    case "--workers": o.Workers = Int(); break;
                    case "--readers": o.Readers = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--databases": o.Databases = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--delete-all": o.DeleteAll = true; break;
                    case "--events": o.Events = Value(); break;
                    case "--stop-file": o.StopFile = Value(); break;
                    case "--emulator": o.Emulator = new Uri(Value().TrimEnd('/') + "/"); break;
                    case "--inner-broker": o.InnerBroker = new Uri(Value().TrimEnd('/') + "/"); break;
                    default: throw new FormatException($"unknown flag '{args[i]}'");
                }
            }
            if (o.Password.Length == 0) throw new FormatException("--password (or env BROKER_PASSWORD) is required");
            return o;
        }
    }
}
