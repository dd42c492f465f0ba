// A handler taking a dictionary in an assembly without a LambdaSerializer attribute: Init error.
using System.Collections.Generic;

namespace Plain
{
public class Function
{
    public string Handle(Dictionary<string, object> input)
    {
        return "never";
    }
}
}
