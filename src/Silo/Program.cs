using OnDemand.Silo;

if (args.FirstOrDefault() == "migrate") return await SiloApplication.MigrateAsync(args[1..]);

WebApplication silo;
try
{
    silo = SiloApplication.Build(args);
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or OnDemand.Grains.Interfaces.Catalog.CatalogException or FormatException)
{
    // One line naming the setting, not a stack trace: the operator's next step is to fix that setting.
    Console.Error.WriteLine($"OnDemand.Silo: cannot start: {e.Message}");
    return 2;
}
await silo.RunAsync();
return 0;
