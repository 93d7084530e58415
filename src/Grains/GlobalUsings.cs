global using Orleans;
global using Orleans.Concurrency;
global using Orleans.Runtime;
global using OnDemand.Grains.Interfaces;
global using OnDemand.Grains.Interfaces.Catalog;
global using OnDemand.Grains.Interfaces.Messages;
global using Microsoft.Extensions.Logging;
