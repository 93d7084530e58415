global using System.Text.Json;
global using System.Text.Json.Nodes;
global using OnDemand.Grains.Interfaces;
global using OnDemand.Grains.Interfaces.Catalog;
global using OnDemand.Grains.Interfaces.Messages;
