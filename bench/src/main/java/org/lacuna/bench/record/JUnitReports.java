package org.lacuna.bench.record;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Reads the JUnit XML reports the console launcher writes ({@code TEST-junit-jupiter.xml}, {@code TEST-jqwik.xml},
 * one per engine: the format of Ant and Surefire) and merges them into one file, since a device call returns at most
 * eight files.
 */
public final class JUnitReports {
    private final List<Document> reports;

    private JUnitReports(List<Document> reports) {
        this.reports = reports;
    }

    /** Reads every {@code *.xml} in {@code folder}; a missing folder reads as no reports. */
    public static JUnitReports read(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return new JUnitReports(List.of());
        }
        List<Path> files;
        try (Stream<Path> listing = Files.list(folder)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".xml")).sorted().toList();
        }
        DocumentBuilder parser = newParser();
        List<Document> documents = new ArrayList<>();
        for (Path file : files) {
            try {
                documents.add(parser.parse(file.toFile()));
            } catch (SAXException e) {
                throw new IOException("cannot parse JUnit report " + file + ": " + e.getMessage(), e);
            }
        }
        return new JUnitReports(documents);
    }

    public List<TestOutcome> testCases() {
        List<TestOutcome> cases = new ArrayList<>();
        for (Document report : reports) {
            NodeList testCases = report.getElementsByTagName("testcase");
            for (int i = 0; i < testCases.getLength(); i++) {
                cases.add(toOutcome((Element) testCases.item(i)));
            }
        }
        return cases;
    }

    private static TestOutcome toOutcome(Element testCase) {
        String outcome = "passed";
        String message = null;
        for (String kind : List.of("failure", "error", "skipped")) {
            NodeList marks = testCase.getElementsByTagName(kind);
            if (marks.getLength() > 0) {
                Element mark = (Element) marks.item(0);
                outcome = kind.equals("failure") ? "failed" : kind;
                message = firstLine(mark.hasAttribute("message") ? mark.getAttribute("message") : mark.getTextContent());
                break;
            }
        }
        return new TestOutcome(testCase.getAttribute("classname"), testCase.getAttribute("name"), outcome,
                parseSeconds(testCase.getAttribute("time")), message);
    }

    private static String firstLine(String text) {
        if (text == null) {
            return null;
        }
        String trimmed = text.strip();
        int newline = trimmed.indexOf('\n');
        return newline < 0 ? trimmed : trimmed.substring(0, newline).strip();
    }

    private static double parseSeconds(String time) {
        if (time == null || time.isBlank()) {
            return 0;
        }
        // Surefire writes "1,234.5" on some locales; the console launcher writes plain decimals.
        return Double.parseDouble(time.replace(",", ""));
    }

    /** Writes every report's test suites under one {@code <testsuites>} root. */
    public void writeMerged(Path target) throws IOException {
        try {
            Document merged = newParser().newDocument();
            Element root = merged.createElement("testsuites");
            merged.appendChild(root);
            for (Document report : reports) {
                Element top = report.getDocumentElement();
                if (top.getTagName().equals("testsuites")) {
                    NodeList children = top.getChildNodes();
                    for (int i = 0; i < children.getLength(); i++) {
                        if (children.item(i).getNodeType() == Node.ELEMENT_NODE) {
                            root.appendChild(merged.importNode(children.item(i), true));
                        }
                    }
                } else {
                    root.appendChild(merged.importNode(top, true));
                }
            }
            Transformer transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.INDENT, "yes");
            transformer.transform(new DOMSource(merged), new StreamResult(target.toFile()));
        } catch (TransformerException e) {
            throw new IOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    private static DocumentBuilder newParser() {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // Reports come from our own run, but there is no reason to let a file pull in external entities.
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return factory.newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser refused a standard setting", e);
        }
    }
}
