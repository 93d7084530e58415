global using System.Net;
global using System.Text.Json.Nodes;
global using Xunit;
global using OnDemand.Tests.Infrastructure;
