"""Example values for the OpenAPI document: a Qingdao employer and its staff.

The ID numbers carry valid GB 11643 check digits (``stdnum.cn.ric.calc_check_digit``); the
person ids are those of the local development secret.
"""

from typing import Any

# An example body: JSON, checked by the schemas that show it.
JsonDict = dict[str, Any]

ID_NUMBER = "370202199003071233"  # 青岛市市南区, born 1990-03-07, male
ID_NUMBER_MASKED = "3702**********1233"
ID_NUMBER_2 = "370212198511202461"  # 青岛市崂山区, born 1985-11-20, female
MOBILE = "13853212345"  # a Qingdao mobile
MOBILE_MASKED = "138****2345"
MOBILE_NEW = "13853267890"
PERSON_ID = "p4432dc5d611332852e47cd6c1baa4154"
PERSON_ID_2 = "pd55b31a0faafed48f0b061b68416d7e0"
NEWBORN_PERSON_ID = "p187bd6a1790d45f831fe04c263a6704d"
BIRTH_CERTIFICATE_NO = "Q370123456"
BIRTH_CERTIFICATE_NO_MASKED = "Q3******56"
QINGDAO = "370200"
SHINAN = "370202"
LAOSHAN = "370212"
EMPLOYER_ID = "E0000000001"
EMPLOYER_NAME = "青岛海川电子有限公司"
API_KEY = "k3Xq9v0bQm2YtR7sLw4pZc8aNf1HdE6uJg5oKiT0VyM"
ENROLLMENT_ID = "0192f1c2-7a3e-7c41-9d0a-5b8e2f6a1c3d"
ENROLLMENT_ID_RESIDENT = "0192f1c2-7a3f-7e02-8b11-3c9d4e5f6a7b"
PAYMENT_ID = "QD-TAX-202501-000123"
INSTITUTION: JsonDict = {
    "code": "H37021200007",
    "name": "青岛市崂山区人民医院",
    "level": 2,
    "region": LAOSHAN,
}

PERSON_CREATE: JsonDict = {
    "id_number": ID_NUMBER,
    "name": "张伟",
    "mobile": MOBILE,
    "region_code": SHINAN,
}

ENROLLMENT_EMPLOYEE: JsonDict = {
    "enrollment_id": ENROLLMENT_ID,
    "person_id": PERSON_ID,
    "insutype": "310",
    "insutype_name": "职工基本医疗保险",
    "pooling_region": QINGDAO,
    "employer_id": EMPLOYER_ID,
    "contribution_base_fen": 650000,
    "start_date": "2025-01-01",
    "end_date": None,
    "end_reason": None,
    "status": "active",
}

PERSON_PUBLIC: JsonDict = {
    "person_id": PERSON_ID,
    "id_number_masked": ID_NUMBER_MASKED,
    "name": "张伟",
    "sex": "M",
    "birth_date": "1990-03-07",
    "mobile_masked": MOBILE_MASKED,
    "region_code": SHINAN,
    "birth_certificate_no_masked": None,
    "guardian_person_id": None,
    "enrollments": [ENROLLMENT_EMPLOYEE],
}

STAFF_MEMBER: JsonDict = {
    "id_number": ID_NUMBER,
    "name": "张伟",
    "mobile": MOBILE,
    "region_code": SHINAN,
    "contribution_base_fen": 650000,
    "start_date": "2025-01-01",
}

STAFF_BATCH_ADD: JsonDict = {
    "items": [
        STAFF_MEMBER,
        {
            "id_number": ID_NUMBER_2,
            "name": "李娜",
            "mobile": "13853298765",
            "region_code": LAOSHAN,
            "contribution_base_fen": 720000,
            "start_date": "2025-01-01",
        },
    ]
}

STAFF_BATCH_REMOVE: JsonDict = {
    "items": [
        {"id_number": ID_NUMBER, "end_date": "2025-06-30"},
        {"person_id": PERSON_ID_2, "end_date": "2025-06-30"},
    ]
}

STAFF_BATCH_RESULT: JsonDict = {
    "employer_id": EMPLOYER_ID,
    "action": "added",
    "count": 2,
    "items": [
        {"index": 0, "person_id": PERSON_ID, "enrollment_id": ENROLLMENT_ID, "registered": True},
        {
            "index": 1,
            "person_id": PERSON_ID_2,
            "enrollment_id": "0192f1c2-7a3e-7c42-a1b2-c3d4e5f60718",
            "registered": False,
        },
    ],
}

NEWBORN_CREATE: JsonDict = {
    "birth_certificate_no": BIRTH_CERTIFICATE_NO,
    "name": "张小宝",
    "sex": "F",
    "birth_date": "2025-03-01",
    "guardian_person_id": PERSON_ID,
    "pooling_region": QINGDAO,
}

CONTRIBUTION_CREATE: JsonDict = {
    "payment_id": PAYMENT_ID,
    "enrollment_id": ENROLLMENT_ID,
    "period": "202501",
    "amount_fen": 65000,
    "employer_part_fen": 52000,
    "personal_part_fen": 13000,
    "paid_at": "2025-01-15T10:30:00+08:00",
}

CERTIFICATE: JsonDict = {
    "title": "参保证明",
    "person_id": PERSON_ID,
    "name": "张伟",
    "id_number_masked": ID_NUMBER_MASKED,
    "birth_certificate_no_masked": None,
    "sex": "M",
    "birth_date": "1990-03-07",
    "enrollments": [
        {
            **{
                k: ENROLLMENT_EMPLOYEE[k]
                for k in (
                    "enrollment_id",
                    "insutype",
                    "insutype_name",
                    "pooling_region",
                    "employer_id",
                    "start_date",
                    "end_date",
                    "status",
                )
            },
            "employer_name": EMPLOYER_NAME,
            "contribution_months": 6,
        }
    ],
    "contribution_months": {"310": 6},
    "issued_at": "2025-07-01T09:00:00+08:00",
}

INVALID_ID_NUMBER: JsonDict = {
    "type": "/problems/invalid-request",
    "title": "Invalid request",
    "status": 422,
    "detail": "id_number: check digit is 5, expected 3",
    "instance": "/persons",
    "errors": [{"field": "id_number", "reason": "check digit is 5, expected 3"}],
}
