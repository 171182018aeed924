// The linked test Support files report failures through NUnit's Assert.
global using NUnit.Framework;
