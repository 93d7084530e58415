using OnDemand.BrokerGateway;

WebApplication gateway;
try
{
    gateway = GatewayApplication.Build(args);
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or OnDemand.Grains.Interfaces.Catalog.CatalogException or FormatException)
{
    // One line naming the setting, not a stack trace: the operator's next step is to fix that setting.
    Console.Error.WriteLine($"OnDemand.BrokerGateway: cannot start: {e.Message}");
    return 2;
}
await gateway.RunAsync();
return 0;
