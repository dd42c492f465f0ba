package example;

import com.amazonaws.services.lambda.runtime.Context;
import java.util.List;
import java.util.Map;

/** Method handlers (package.Class::method) with POJO, String, int and void signatures. */
public class Pojos {
  public static class Order {
    private String id;
    private int quantity;
    private List<String> items;

    public String getId() { return id; }

    public void setId(String v) { id = v; }

    public int getQuantity() { return quantity; }

    public void setQuantity(int v) { quantity = v; }

    public List<String> getItems() { return items; }

    public void setItems(List<String> v) { items = v; }
  }

  public static class Receipt {
    private final String orderId;
    private final int lines;
    private final String note;

    Receipt(String orderId, int lines, String note) {
      this.orderId = orderId;
      this.lines = lines;
      this.note = note;
    }

    public String getOrderId() { return orderId; }

    public int getLines() { return lines; }

    public String getNote() { return note; }
  }

  public Receipt order(Order order, Context context) {
    return new Receipt(order.getId(), order.getItems().size() * order.getQuantity(), null);
  }

  public static String shout(String s) { return s.toUpperCase(); }

  public long twice(long n) { return 2 * n; }

  public void nothing(Map<String, Object> event) {}

  public String boom(Map<String, Object> event, Context context) {
    throw new IllegalArgumentException("asked to fail", new IllegalStateException("the cause"));
  }
}
