using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OnDemand.Tests.FirstRun;

/// <summary>
/// A copy of this checkout's working tree (the files git tracks or would track: no bin/, obj/, .data/) in a fresh 0700
/// folder, run with <c>./run.sh</c> in the background of a non-interactive shell, as a user would start it from a
/// script. Every port is free-picked and the data folder is the copy's own. Runs reuse the binaries this test build
/// made (<c>BUILD=0</c>, <c>BIN_ROOT</c> = this repository, this build's configuration), so no run builds.
/// </summary>
public sealed partial class LocalRun : IAsyncDisposable
{
    private readonly List<int> _started = [];

    private LocalRun(string root)
    {
        Root = root;
        Checkout = Path.Combine(root, "checkout");
        DataDir = Path.Combine(Checkout, ".data");
    }

    /// <summary>The 0700 folder holding the checkout (a stand-in for root's home).</summary>
    public string Root { get; }
    public string Checkout { get; }
    public string DataDir { get; }
    public int Port { get; } = FreePort.Next();
    public int PgPort { get; } = FreePort.Next();
    public int SiloHttpPort { get; } = FreePort.Next();
    public int EmulatorPort { get; } = FreePort.Next();
    public int SiloPort { get; } = FreePort.Next();
    public int SiloGatewayPort { get; } = FreePort.Next();

    /// <summary>The configuration this test assembly was built in (Debug, Release): run.sh runs the same.</summary>
    public static string Configuration { get; } =
        ConfigurationRegex().Match(AppContext.BaseDirectory) is { Success: true } m ? m.Groups[1].Value : "Debug";

    /// <summary>A project's built dll under this repository, in <see cref="Configuration"/>.</summary>
    public static string Built(string project, string dll) => Path.Combine(RepositoryPaths.Root, project, "bin", Configuration, "net10.0", dll);

    public IReadOnlyList<int> Ports => [Port, PgPort, SiloHttpPort, EmulatorPort, SiloPort, SiloGatewayPort];

    /// <summary>pid of the run.sh started last.</summary>
    public int Pid { get; private set; }

    public string OutputFile(int run) => Path.Combine(Root, $"run{run}.out");

    public static async Task<LocalRun> CopyCheckoutAsync()
    {
        var root = Directory.CreateTempSubdirectory("ondemand-firstrun-").FullName;
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var run = new LocalRun(root);
        var files = await OutputOfAsync("git", ["-C", RepositoryPaths.Root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
        foreach (var relative in files.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var source = Path.Combine(RepositoryPaths.Root, relative);
            if (!File.Exists(source)) continue; // deleted in the working tree
            var target = Path.Combine(run.Checkout, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(source));
        }
        return run;
    }

    /// <summary>Starts <c>./run.sh &amp;</c> from a non-interactive bash, which leaves it with SIGINT ignored.</summary>
    public async Task StartInBackgroundAsync(int run)
    {
        var start = new ProcessStartInfo("bash", ["-c", "./run.sh >\"$RUN_OUTPUT\" 2>&1 </dev/null & echo $!"])
        {
            WorkingDirectory = Checkout,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var environment = new Dictionary<string, string>
        {
            ["RUN_OUTPUT"] = OutputFile(run),
            ["DATA_DIR"] = DataDir,
            ["BUILD"] = "0",
            ["CONFIGURATION"] = Configuration,
            ["BIN_ROOT"] = RepositoryPaths.Root,
            ["PORT"] = Port.ToString(),
            ["PG_PORT"] = PgPort.ToString(),
            ["SILO_HTTP_PORT"] = SiloHttpPort.ToString(),
            ["EMULATOR_PORT"] = EmulatorPort.ToString(),
            ["SILO_PORT"] = SiloPort.ToString(),
            ["SILO_GATEWAY_PORT"] = SiloGatewayPort.ToString(),
            ["EMULATOR_BUILD_SECONDS"] = "1",
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        // Whatever the test process has that run.sh would take as its own settings.
        foreach (var name in new[] { "Concourse__Url", "ConnectionStrings__Orleans", "PGPASSWORD", "BROKER_PASSWORD", "SILOS", "GATEWAYS" })
        {
            start.Environment.Remove(name);
        }
        using var shell = Process.Start(start)!;
        var pid = (await shell.StandardOutput.ReadToEndAsync()).Trim();
        await shell.WaitForExitAsync();
        Pid = int.Parse(pid);
        _started.Add(Pid);
    }

    public IReadOnlyDictionary<string, string> Credentials() =>
        File.ReadAllLines(Path.Combine(DataDir, "credentials.env"))
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);

    public string Output(int run) => File.Exists(OutputFile(run)) ? File.ReadAllText(OutputFile(run)) : "";

    public static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);

    /// <summary>The PostgreSQL data folder: <c>.data/postgres</c>, or what it links to (root, 0700 parent).</summary>
    public string PostgresDataDir()
    {
        var link = Path.Combine(DataDir, "postgres");
        return new FileInfo(link).LinkTarget ?? link;
    }

    /// <summary>Processes of this run: DATA_DIR in their environment (run.sh exports it to all it starts), or a path of this run on their command line.</summary>
    public IReadOnlyList<string> ProcessesOfThisRun()
    {
        var found = new List<string>();
        var postgresDir = PostgresDataDir();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(proc);
            if (!int.TryParse(name, out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                var environ = File.ReadAllText(Path.Combine(proc, "environ"));
                if (environ.Contains("\0DATA_DIR=" + DataDir + "\0", StringComparison.Ordinal) || environ.StartsWith("DATA_DIR=" + DataDir + "\0", StringComparison.Ordinal)
                    || cmdline.Contains(Root, StringComparison.Ordinal) || cmdline.Contains(postgresDir, StringComparison.Ordinal))
                {
                    if (IsAlive(pid)) found.Add($"{pid}: {cmdline}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile, or not ours to read
            }
        }
        return found;
    }

    /// <summary>Command lines (of any process on the machine) holding <paramref name="secret"/>.</summary>
    public static IReadOnlyList<string> CommandLinesHolding(string secret)
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline"));
                if (cmdline.Contains(secret, StringComparison.Ordinal)) found.Add(cmdline.Replace('\0', ' '));
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    public IReadOnlyList<int> PortsInUse() => Ports.Where(port => !FreePort.Bindable(port)).ToList();

    public async ValueTask DisposeAsync()
    {
        // A failed test must not leave a run behind: TERM, then what is left of it, then its PostgreSQL.
        foreach (var pid in _started.Where(IsAlive))
        {
            await OutputOfAsync("kill", ["-TERM", pid.ToString()], check: false);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_started.Any(IsAlive) && DateTime.UtcNow < deadline) await Task.Delay(100);
        foreach (var line in ProcessesOfThisRun())
        {
            await OutputOfAsync("kill", ["-KILL", line[..line.IndexOf(':')]], check: false);
        }
        var postgresDir = PostgresDataDir();
        if (File.Exists(Path.Combine(postgresDir, "postmaster.pid")))
        {
            await OutputOfAsync(Path.Combine(Checkout, "scripts", "postgres.sh"), ["stop", Path.Combine(DataDir, "postgres")], check: false);
        }
        if (postgresDir != Path.Combine(DataDir, "postgres") && Directory.Exists(postgresDir)) Directory.Delete(postgresDir, recursive: true);
        Directory.Delete(Root, recursive: true);
    }

    private static async Task<string> OutputOfAsync(string file, string[] arguments, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}");
        }
        return await output;
    }

    public static Task<string> RunAsync(string file, params string[] arguments) => OutputOfAsync(file, arguments);

    [GeneratedRegex(@"[/\\]bin[/\\]([^/\\]+)[/\\]net")]
    private static partial Regex ConfigurationRegex();
}
