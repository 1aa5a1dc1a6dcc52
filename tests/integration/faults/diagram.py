"""A two-step route used by the fault tests and the load benchmark: leader assigns, then leader confirms."""

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_f" targetNamespace="http://qlvb">
  <bpmn:collaboration id="Collab_f"><bpmn:participant id="Part_f" processRef="fault_test" /></bpmn:collaboration>
  <bpmn:process id="fault_test" isExecutable="true">
    <bpmn:laneSet id="LaneSet_f">
      <bpmn:lane id="Lane_leader" name="leader"><bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>assign</bpmn:flowNodeRef><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="assign" name="Phân công xử lý">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="incoming_confirm" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="confirm" name="Xác nhận kết quả xử lý">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="incoming_confirm" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="StartEvent_1" targetRef="assign" />
    <bpmn:sequenceFlow id="f2" sourceRef="assign" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""

ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal"})
