package com.amazonaws.services.lambda.runtime.events;

import java.util.List;

/** Partial batch failures (ReportBatchItemFailures), as in aws-lambda-java-events. */
public class SQSBatchResponse {
  private List<BatchItemFailure> batchItemFailures;

  public SQSBatchResponse() {}

  public SQSBatchResponse(List<BatchItemFailure> batchItemFailures) {
    this.batchItemFailures = batchItemFailures;
  }

  public List<BatchItemFailure> getBatchItemFailures() { return batchItemFailures; }

  public void setBatchItemFailures(List<BatchItemFailure> v) { batchItemFailures = v; }

  public static class BatchItemFailure {
    private String itemIdentifier;

    public BatchItemFailure() {}

    public BatchItemFailure(String itemIdentifier) { this.itemIdentifier = itemIdentifier; }

    public String getItemIdentifier() { return itemIdentifier; }

    public void setItemIdentifier(String v) { itemIdentifier = v; }
  }
}
