// C# functions for the dotnet8 (Mono) tests, compiled with mcs against Lambent's
// Amazon.Lambda.Core and Amazon.Lambda.Serialization.Json.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

[assembly:LambdaSerializer(typeof(Amazon.Lambda.Serialization.Json.JsonSerializer))]

namespace Example
{
public class Order
{
    public string Id { get; set; }
    public int Quantity { get; set; }
    public List<string> Items { get; set; }
}

public class Receipt
{
    public string OrderId { get; set; }
    public int Lines { get; set; }
    public string Note { get; set; }
}

public class Function
{
    static Function()
    {
        LambdaLogger.Log("INIT Function\n");
    }

    public Dictionary<string, object> Hello(Dictionary<string, object> input, ILambdaContext context)
    {
        object sleep;
        if (input.TryGetValue("sleep", out sleep))
            Thread.Sleep(Convert.ToInt32(sleep));
        context.Logger.LogLine("HELLO " + context.AwsRequestId);
        return new Dictionary<string, object> {
            { "echo", input },
            { "requestId", context.AwsRequestId },
            { "function", context.FunctionName },
            { "version", context.FunctionVersion },
            { "memory", context.MemoryLimitInMB },
            { "remaining", (int)context.RemainingTime.TotalMilliseconds },
            { "arn", context.InvokedFunctionArn },
            { "logGroup", context.LogGroupName },
            { "trace", Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID") },
            { "greeting", Helpers.Greeter.Greet() },
            { "cwd", Environment.CurrentDirectory },
        };
    }

    public Dictionary<string, object> Echo(Dictionary<string, object> input)
    {
        return input;
    }

    public Receipt PlaceOrder(Order order, ILambdaContext context)
    {
        return new Receipt { OrderId = order.Id, Lines = order.Items.Count * order.Quantity };
    }

    public async Task<string> Later(string input)
    {
        await Task.Delay(10);
        return input.ToUpperInvariant();
    }

    public static Stream Raw(Stream input, ILambdaContext context)
    {
        var text = new StreamReader(input).ReadToEnd();
        return new MemoryStream(
            Encoding.UTF8.GetBytes("\"" + text.Length + " bytes from " + context.FunctionName + "\""));
    }

    public string Boom(Dictionary<string, object> input)
    {
        throw new InvalidOperationException("asked to fail", new ArgumentException("the cause"));
    }
}
}
