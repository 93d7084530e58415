using OnDemand.BrokerGateway;

WebApplication gateway;
// A bad setting: one line naming it (the operator's next step is to fix it), not a stack trace.
try { gateway = GatewayApplication.Build(args); }
catch (Exception e) when (e is ArgumentException or InvalidOperationException or OnDemand.Grains.Interfaces.Catalog.CatalogException or FormatException)
{ Console.Error.WriteLine($"OnDemand.BrokerGateway: cannot start: {e.Message}"); return 2; }
await gateway.RunAsync();
return 0;
