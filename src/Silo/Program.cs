using OnDemand.Silo;

if (args.FirstOrDefault() == "migrate") return await SiloApplication.MigrateAsync(args[1..]);

await SiloApplication.Build(args).RunAsync();
return 0;
