using OnDemand.Silo;

if (args.FirstOrDefault() == "migrate") return await SiloApplication.MigrateAsync(args[1..]);

WebApplication silo;
// A bad setting: one line naming it (the operator's next step is to fix it), not a stack trace.
try { silo = SiloApplication.Build(args); }
catch (Exception e) when (e is ArgumentException or InvalidOperationException or OnDemand.Grains.Interfaces.Catalog.CatalogException or FormatException)
{ Console.Error.WriteLine($"OnDemand.Silo: cannot start: {e.Message}"); return 2; }
ShutdownWatchdog.Arm(silo);
await silo.RunAsync();
return 0;
