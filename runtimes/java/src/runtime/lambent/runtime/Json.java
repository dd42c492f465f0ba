package lambent.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON for the plain types (maps, lists, strings, numbers, booleans, null) on Jackson's streaming
 * layer: the values are what Jackson's databind gives for Object (LinkedHashMap, ArrayList,
 * Integer/Long/BigInteger, Double, ...), at a fraction of databind's start-up cost. Handlers
 * taking or returning other types go through {@link Pojo}.
 */
final class Json {
  static final JsonFactory FACTORY = new JsonFactory();

  /** A value this layer cannot write (a POJO somewhere inside): databind writes the whole. */
  static final class NotPlain extends Exception {
    private static final long serialVersionUID = 1L;

    NotPlain() { super(null, null, false, false); }
  }

  private Json() {}

  static Object parse(byte[] json) throws IOException {
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() == null) return null;
      Object v = read(p);
      if (p.nextToken() != null) throw new IOException("Unexpected data after the JSON value");
      return v;
    }
  }

  static Object read(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT: {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String k = p.getCurrentName();
          p.nextToken();
          m.put(k, read(p));
        }
        return m;
      }
      case START_ARRAY: {
        List<Object> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) l.add(read(p));
        return l;
      }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
        return p.getNumberValue();
      case VALUE_NUMBER_FLOAT:
        return p.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new IOException("Unexpected JSON token " + t);
    }
  }

  static byte[] write(Object v) throws IOException, NotPlain {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      write(g, v);
    }
    return out.toByteArray();
  }

  static void write(JsonGenerator g, Object v) throws IOException, NotPlain {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String || v instanceof Character) {
      g.writeString(v.toString());
    } else if (v instanceof Boolean) {
      g.writeBoolean((Boolean) v);
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short
        || v instanceof Byte) {
      g.writeNumber(((Number) v).longValue());
    } else if (v instanceof Double || v instanceof Float) {
      g.writeNumber(((Number) v).doubleValue());
    } else if (v instanceof BigInteger) {
      g.writeNumber((BigInteger) v);
    } else if (v instanceof BigDecimal) {
      g.writeNumber((BigDecimal) v);
    } else if (v instanceof Map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof Collection) {
      g.writeStartArray();
      for (Object o : (Collection<?>) v) write(g, o);
      g.writeEndArray();
    } else if (v instanceof Object[]) {
      g.writeStartArray();
      for (Object o : (Object[]) v) write(g, o);
      g.writeEndArray();
    } else {
      throw new NotPlain();
    }
  }
}
