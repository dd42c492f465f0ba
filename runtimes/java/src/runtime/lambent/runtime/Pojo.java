package lambent.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategy;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.introspect.AnnotatedMethod;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleDeserializers;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.module.SimpleSerializers;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Type;

/**
 * Jackson databind for handlers that take or return POJOs and event classes, configured as AWS's
 * runtime serializes: unknown properties ignored, property names matched without regard to case
 * (so "Records", "Sns" or "eventSourceARN" fill AWS's event classes, whether Lambent's or the
 * ones a fat jar bundles), nulls left out of the output, Joda-Time dates as ISO-8601 strings,
 * and the few JSON names no Java identifier can spell ("detail-type", "x-amz-request-id").
 * Loaded only when a handler needs it: building a mapper costs tens of milliseconds.
 */
final class Pojo {
  private static final ObjectMapper MAPPER = build();

  private Pojo() {}

  /** The JSON names of AWS's events that are not Java identifiers. */
  static final class EventNames extends PropertyNamingStrategy {
    private static final long serialVersionUID = 1L;

    private static String rename(String name) {
      switch (name) {
        case "detailType":
          return "detail-type";
        case "xAmzRequestId":
          return "x-amz-request-id";
        case "xAmzId2":
          return "x-amz-id-2";
        default:
          return name;
      }
    }

    @Override
    public String nameForGetterMethod(MapperConfig<?> c, AnnotatedMethod m, String name) {
      return rename(name);
    }

    @Override
    public String nameForSetterMethod(MapperConfig<?> c, AnnotatedMethod m, String name) {
      return rename(name);
    }
  }

  /**
   * Joda-Time's DateTime (AWS's event classes use it) by class name: the function may bundle its
   * own Joda-Time, whose DateTime is another class than the one on this runtime's path.
   */
  static final class JodaDeserializers extends SimpleDeserializers {
    private static final long serialVersionUID = 1L;

    @Override
    public JsonDeserializer<?> findBeanDeserializer(
        JavaType type, DeserializationConfig config, BeanDescription bean) {
      Class<?> c = type.getRawClass();
      if (!c.getName().equals("org.joda.time.DateTime")) return null;
      final Method parse;
      final Constructor<?> fromMillis;
      try {
        parse = c.getMethod("parse", String.class);
        fromMillis = c.getConstructor(long.class);
      } catch (NoSuchMethodException e) {
        return null;
      }
      return new JsonDeserializer<Object>() {
        @Override
        public Object deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
          try {
            if (p.currentToken().isNumeric()) return fromMillis.newInstance(p.getLongValue());
            return parse.invoke(null, p.getText());
          } catch (ReflectiveOperationException e) {
            throw new IOException("Cannot read a DateTime from " + p.getText(), e);
          }
        }
      };
    }
  }

  /** Joda-Time's DateTime written as its ISO-8601 string, whichever copy the function uses. */
  static final class JodaSerializers extends SimpleSerializers {
    private static final long serialVersionUID = 1L;

    @Override
    public JsonSerializer<?> findSerializer(
        SerializationConfig config, JavaType type, BeanDescription bean) {
      if (!type.getRawClass().getName().equals("org.joda.time.DateTime")) return null;
      return ToStringSerializer.instance;
    }
  }

  private static ObjectMapper build() {
    SimpleModule joda = new SimpleModule("lambent-joda");
    joda.setDeserializers(new JodaDeserializers());
    joda.setSerializers(new JodaSerializers());
    return JsonMapper.builder()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .serializationInclusion(JsonInclude.Include.NON_NULL)
        .propertyNamingStrategy(new EventNames())
        .addModule(joda)
        .build();
  }

  static Object read(byte[] json, Type type) throws IOException {
    JavaType t = MAPPER.getTypeFactory().constructType(type);
    if (json.length == 0) return null;
    return MAPPER.readValue(json, t);
  }

  static byte[] write(Object value) throws IOException { return MAPPER.writeValueAsBytes(value); }
}
